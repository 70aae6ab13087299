/* The portal's form errors (issue #19; WCAG 2.2 SC 3.3.1, 2.4.3): after an invalid
   submission the error summary at the top of the form (templates/error_summary.html) takes
   the focus, so a screen reader reads it and a keyboard starts from it; its links move
   the focus to the field they name (a fragment link alone only scrolls). The same when
   htmx swaps in a part of the page that holds a summary. A file, not an inline script:
   the Content-Security-Policy allows scripts from this origin only. */
(function () {
  "use strict";

  function focusSummary(root) {
    var summary = root.querySelector ? root.querySelector("[data-error-summary]") : null;
    if (summary) {
      summary.focus();
    }
  }

  function onSummaryClick(event) {
    var link = event.target.closest ? event.target.closest("[data-error-summary] a[href^='#']") : null;
    if (!link) { return; }
    var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!field) { return; }
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  }

  document.addEventListener("click", onSummaryClick);
  document.addEventListener("htmx:afterSettle", function (event) {
    focusSummary(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  } else {
    focusSummary(document);
  }
}());

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

// The main navigation (base.html; issue #19), after the WAI-ARIA disclosure navigation
// pattern, not role="menu": each group's label becomes a button (aria-expanded,
// aria-controls) that shows or hides the group's list of links. One group is open at a
// time; Escape closes it and puts the focus back on its button; a click elsewhere or the
// focus leaving the group closes it. On a phone the "Menu" button shows and hides the whole
// navigation (the style sheet shows it below 40rem once .nav-js is set). Without this
// script every group, and the navigation on a phone, is simply shown.
(function () {
  "use strict";
  function setUp() {
    var nav = document.getElementById("main-nav");
    if (!nav) { return; }
    var header = nav.closest("header");
    var menu = header.querySelector(".menu-toggle[aria-controls='main-nav']");
    var buttons = [];

    function setOpen(button, open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      document.getElementById(button.getAttribute("aria-controls")).hidden = !open;
    }
    function openButton() {
      for (var i = 0; i < buttons.length; i += 1) {
        if (buttons[i].getAttribute("aria-expanded") === "true") { return buttons[i]; }
      }
      return null;
    }
    function closeAll(except) {
      buttons.forEach(function (button) { if (button !== except) { setOpen(button, false); } });
    }

    nav.querySelectorAll(".nav-group-label").forEach(function (label) {
      var list = label.nextElementSibling;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "nav-group-button";
      button.textContent = label.textContent;
      button.setAttribute("aria-controls", list.id);
      if (list.querySelector("[aria-current=page]")) { button.classList.add("current"); }
      label.replaceWith(button);
      setOpen(button, false);
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        closeAll(button);
        setOpen(button, open);
      });
      buttons.push(button);
    });

    if (menu) {
      menu.addEventListener("click", function () {
        var open = menu.getAttribute("aria-expanded") !== "true";
        menu.setAttribute("aria-expanded", open ? "true" : "false");
        if (!open) { closeAll(null); }
      });
    }
    header.classList.add("nav-js");

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var button = openButton();
      if (button && (nav.contains(document.activeElement) || button === document.activeElement)) {
        setOpen(button, false);
        button.focus();
        event.preventDefault();
      } else if (menu && menu.getAttribute("aria-expanded") === "true" &&
                 menu.offsetParent !== null &&
                 (nav.contains(document.activeElement) || menu === document.activeElement)) {
        menu.setAttribute("aria-expanded", "false");
        menu.focus();
        event.preventDefault();
      }
    });
    document.addEventListener("click", function (event) {
      var button = openButton();
      if (button && !button.parentNode.contains(event.target)) { setOpen(button, false); }
    });
    nav.addEventListener("focusout", function (event) {
      var button = openButton();
      if (button && event.relatedTarget && !button.parentNode.contains(event.relatedTarget)) {
        setOpen(button, false);
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
}());

// A select with data-shows="ID" data-shows-when="VALUE" shows the element ID only while
// VALUE is chosen: the gap analysis's several-rows editor shows a row's "Why … does not
// apply" field when "Not applicable" is chosen. Without this script the field appears
// when the save asks for it.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest ? event.target.closest("select[data-shows]") : null;
    if (!select) { return; }
    var shown = document.getElementById(select.getAttribute("data-shows"));
    if (shown) { shown.hidden = select.value !== select.getAttribute("data-shows-when"); }
  });
}());
