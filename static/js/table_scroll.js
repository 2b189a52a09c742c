// A table wider than the screen scrolls in its own labelled box (.table-scroll, role=region), so
// the page never scrolls sideways on a phone. A box that scrolls becomes a Tab stop, so it can be
// scrolled with the arrow keys; one that fits stays out of the Tab order.
(function () {
  function mark() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) { box.tabIndex = 0; }
      else { box.removeAttribute("tabindex"); }
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();
