"""`cmf-config serve`: the configurator in the browser (Starlette on uvicorn) and its /api."""
