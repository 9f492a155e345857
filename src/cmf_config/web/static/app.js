// cmf-config serve: the page works without this file (the "Apply choices" button submits the
// form); with it, every choice applies at once. The state stays in the URL: open slots are
// left out of the query, and focus and scroll position come back after the page reloads.
"use strict";

(function () {
  var KEY = "cmf-config-return";

  function apply(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "") {
        params.append(key, value);
      }
    });
    var query = params.toString();
    window.location.assign(form.getAttribute("action") + (query ? "?" + query : ""));
  }

  function remember(control) {
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ id: control.id, y: window.scrollY }));
    } catch (e) {
      /* storage may be off: the page still works */
    }
  }

  function restore() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
      sessionStorage.removeItem(KEY);
    } catch (e) {
      saved = null;
    }
    if (!saved) {
      return;
    }
    window.scrollTo(0, saved.y || 0);
    var control = saved.id ? document.getElementById(saved.id) : null;
    if (control) {
      control.focus({ preventScroll: true });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("config");
    if (!form) {
      return;
    }
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target && target.tagName === "SELECT") {
        remember(target);
        document.body.classList.add("busy");
        apply(form);
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      apply(form);
    });
    restore();
  });
})();
