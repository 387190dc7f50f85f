// Live updates: the server sends the topics that changed on disk (server-sent events);
// every element whose data-topics names one of them re-fetches itself through htmx.
(function () {
  "use strict";
  function refresh(topics) {
    document.querySelectorAll("[data-topics]").forEach(function (el) {
      var wants = el.getAttribute("data-topics").split(" ");
      if (topics === null || topics.some(function (t) { return wants.indexOf(t) >= 0; })) {
        htmx.trigger(el, "refresh");
      }
    });
  }
  var connected = false;
  var source = new EventSource("/events");
  source.addEventListener("hello", function () {
    if (connected) { refresh(null); }  // back after a drop: changes may have been missed
    connected = true;
    document.body.setAttribute("data-live", "on");
  });
  source.addEventListener("change", function (e) { refresh(JSON.parse(e.data)); });
  source.onerror = function () { document.body.setAttribute("data-live", "off"); };

  function span(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? h + " h " + m + " min" : m ? m + " min " + r + " s" : r + " s";
  }
  setInterval(function () {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var start = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(start)) { el.textContent = span(Math.max(0, Math.floor((Date.now() - start) / 1000))); }
    });
  }, 1000);
})();
