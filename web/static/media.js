// The media page: the player beside its transcript. The cue being spoken is highlighted (and
// scrolled into view), a click on a cue's time seeks there, ?t=725 starts at that second.
(function () {
  "use strict";
  function init() {
    var view = document.querySelector("[data-media-view]");
    if (!view) return;
    var player = view.querySelector("[data-player]");
    var cues = Array.prototype.slice.call(view.querySelectorAll(".cue[data-start]"));
    if (!player) return;
    var current = null;

    function seek(t) {
      var go = function () {
        player.currentTime = t;
      };
      if (player.readyState >= 1) go();
      else player.addEventListener("loadedmetadata", go, { once: true });
    }

    function highlight() {
      var t = player.currentTime;
      var found = null;
      for (var i = 0; i < cues.length; i++) {
        var s = parseFloat(cues[i].getAttribute("data-start"));
        var e = parseFloat(cues[i].getAttribute("data-end"));
        if (t >= s && t < Math.max(e, s + 0.01)) { found = cues[i]; break; }
      }
      if (found === current) return;
      if (current) { current.classList.remove("cue--current"); current.removeAttribute("aria-current"); }
      current = found;
      if (current) {
        current.classList.add("cue--current");
        current.setAttribute("aria-current", "true");
        if (current.scrollIntoView) current.scrollIntoView({ block: "nearest" });
      }
    }

    view.addEventListener("click", function (ev) {
      var link = ev.target.closest ? ev.target.closest("[data-seek]") : null;
      var cue = ev.target.closest ? ev.target.closest(".cue[data-start]") : null;
      var at = link ? link.getAttribute("data-seek") : cue ? cue.getAttribute("data-start") : null;
      if (at === null) return;
      ev.preventDefault();
      seek(parseFloat(at));
      var played = player.play();
      if (played && played.catch) played.catch(function () {});
    });
    player.addEventListener("timeupdate", highlight);
    player.addEventListener("seeked", highlight);
    var start = player.getAttribute("data-start");
    if (start !== null) seek(parseFloat(start));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
