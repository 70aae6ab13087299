// Long checkbox lists (e.g. the 39 IAF sector codes) get a filter box: typing hides the
// options whose label does not contain the text. Ticked options always stay visible.
// Without this script the list simply scrolls.
(function () {
  "use strict";
  function setUp(box) {
    var list = document.getElementById(box.getAttribute("aria-controls"));
    if (!list) { return; }
    var count = box.parentNode.querySelector(".choice-count");
    var options = Array.prototype.slice.call(list.querySelectorAll("input[type=checkbox]"));
    box.hidden = false;
    function update() {
      var text = box.value.trim().toLowerCase();
      var shown = 0;
      options.forEach(function (input) {
        var row = input.closest("label") ? input.closest("label").parentNode : input.parentNode;
        var label = (input.closest("label") || row).textContent.toLowerCase();
        var visible = !text || input.checked || label.indexOf(text) !== -1;
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      var ticked = options.filter(function (input) { return input.checked; }).length;
      if (count) {
        count.textContent = (text ? shown + " of " + options.length + " shown, " : "") +
          ticked + " selected";
      }
    }
    box.addEventListener("input", update);
    list.addEventListener("change", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input.choice-filter[aria-controls]").forEach(setUp);
  });
}());
