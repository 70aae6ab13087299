"""axe-core checks of every page state the browser tests visit (issue #19).

``watch(page, log)`` makes the page's states checked with axe-core (vendored in
tests/e2e/vendor/axe-core, test-only): before each action the test takes on the page
(``page.goto``, a click, a fill, a key press, a selection, an upload, … on the page or on
one of its locators) the state the action starts from is checked, and ``check(page,
log)`` checks the state a page ends in (the ``new_page`` fixture does so at the end of
every test). So every state a test acts on or ends in is checked: a page after a
navigation, a form after an invalid submission, a part of a page swapped in by htmx.

A state is checked once: an init script notes any change of the DOM since the last check
(a MutationObserver), an unchanged state (the same form while the test fills in its
fields) is not checked again.

Only violations with impact "critical" or "serious" fail a test, with the rule, its help
page, the page's address and the CSS selectors of the offending nodes; all rules that
axe-core runs by default (WCAG 2.x A/AA and best practices) are run, none is disabled.

Design notes: the check runs in the test's own flow, before the action, so it always sees
the page the test is on. Handlers of the page's events (``load``, or the route of the
request that leaves a page) would run while the test goes on and check, or lose, whatever
page the test has moved on to — and Chromium does not evaluate script in a document whose
successor's request is held by a route, so that design deadlocks. The axe source is
injected with ``page.evaluate`` (DevTools, outside the page's Content-Security-Policy)
only into documents that are checked.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

# A function whose body is axe's source: it sets ``window.axe`` (no eval, which the page's
# Content-Security-Policy would refuse).
INJECT_AXE = ("() => { if (window.axe) return;\n"
              + (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
              + "\n}")
FAILING_IMPACTS = ("critical", "serious")

# Runs in every document before its own scripts (outside its CSP): the state is "dirty"
# (not yet checked) when the document starts and after any change of its content or of an
# attribute that changes what assistive technology gets. Changes of class and style alone
# (htmx's request/settle classes, a chart's canvas size) are not a new state: axe is slow
# (a second or more per run on a busy machine), and they would double the runs.
TRACK_CHANGES = """
window.__a11yDirty = true;
new MutationObserver(() => { window.__a11yDirty = true; }).observe(document, {
  subtree: true, childList: true, characterData: true, attributes: true,
  attributeFilter: ["hidden", "open", "disabled", "inert", "role", "tabindex", "href", "id",
    "for", "lang", "alt", "title", "name", "type", "aria-hidden", "aria-expanded",
    "aria-label", "aria-labelledby", "aria-describedby", "aria-invalid", "aria-live",
    "aria-current", "aria-selected", "aria-checked", "aria-pressed", "aria-busy"],
});
"""

# Checked by axe, but not fixable here: django-ninja's vendored Swagger UI (/api/v1/docs)
# draws its own widgets — method badges in light colours on white and expander buttons
# that hold the copy-link button (color-contrast, nested-interactive). Its page around it
# (language, title, landmark: templates/ninja/swagger.html) is still checked.
EXCLUDE = [["#swagger-ui"]]

RUN_AXE = """
async ([exclude, seen]) => {
  if (!window.__a11yDirty) return null;
  if (!window.axe) return "inject";
  window.__a11yDirty = false;
  // The same markup (but for per-response tokens) was checked before: skip it.
  const markup = document.documentElement.outerHTML
    .replace(/(csrfmiddlewaretoken" value=|X-CSRFToken": |nonce=)"[^"]*"/g, "$1");
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest(
    "SHA-256", new TextEncoder().encode(location.pathname + markup))))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  if (seen.includes(digest)) return {digest, violations: null};
  const results = await window.axe.run({exclude}, {
    iframes: false, resultTypes: ["violations"],
  });
  window.__a11yDirty = false;  // axe's own reading of the DOM is no change
  return {digest, violations: results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 160)})),
  }))};
}
"""

# The actions that start from a page state (and may leave it), on pages and locators.
PAGE_ACTIONS = ("goto", "reload", "go_back", "go_forward", "click", "dblclick", "tap",
                "fill", "type", "press", "check", "uncheck", "set_checked", "select_option",
                "set_input_files", "dispatch_event")
LOCATOR_ACTIONS = ("click", "dblclick", "tap", "fill", "clear", "type", "press",
                   "press_sequentially", "check", "uncheck", "set_checked", "select_option",
                   "select_text", "set_input_files", "dispatch_event")


@dataclass
class A11yLog:
    """What the checks of one test found: failures, and how many states were checked."""

    failures: list[str] = field(default_factory=list)
    checked: int = 0    # states axe ran on
    same: int = 0       # states whose markup was checked before (in this session)
    skipped: int = 0    # the page went away while its check ran (counted, not failed)
    seconds: float = 0.0


# Digests of the markup checked in this session (the same page state in another test).
_seen: list[str] = []
totals = A11yLog()


_watched: dict[int, tuple[Page, A11yLog]] = {}


def watch(page: Page, log: A11yLog) -> None:
    """Check each state of ``page`` before the test acts on it (see the module's doc)."""
    page.add_init_script(TRACK_CHANGES)
    _watched[id(page._impl_obj)] = (page, log)


def unwatch(page: Page) -> None:
    _watched.pop(id(page._impl_obj), None)


def install() -> list[tuple[type, str, object]]:
    """Wrap the actions of Playwright's Page and Locator; returns what to restore."""
    originals = []
    for cls, names in ((Page, PAGE_ACTIONS), (Locator, LOCATOR_ACTIONS)):
        for name in names:
            original = getattr(cls, name)
            originals.append((cls, name, original))
            setattr(cls, name, _checked_first(original, name))
    return originals


def uninstall(originals: list[tuple[type, str, object]]) -> None:
    for cls, name, original in originals:
        setattr(cls, name, original)


def _checked_first(action, name: str):
    @functools.wraps(action)
    def wrapper(self, *args, **kwargs):
        page = self if isinstance(self, Page) else self.page
        watched = _watched.get(id(page._impl_obj))
        if watched is not None and watched[0]._impl_obj is page._impl_obj:
            check(watched[0], watched[1], reason=f"before {name}")
        return action(self, *args, **kwargs)

    return wrapper


def check(page: Page, log: A11yLog, *, reason: str = "final state") -> None:
    """Run axe-core on the page's current state; record serious and critical violations."""
    if page.is_closed() or page.url in ("", "about:blank"):
        return
    global _seconds_in_checks
    started = time.monotonic()
    try:
        _check(page, log, reason)
    finally:
        log.seconds += time.monotonic() - started
        _seconds_in_checks += time.monotonic() - started


_seconds_in_checks = 0.0


def seconds_in_checks() -> float:
    """The time spent in checks so far in this session (for a test with a time budget)."""
    return _seconds_in_checks


def _check(page: Page, log: A11yLog, reason: str) -> None:
    try:
        page.wait_for_load_state("load")
        url = page.url
        result = page.evaluate(RUN_AXE, [EXCLUDE, _seen])
        if result == "inject":
            page.evaluate(INJECT_AXE)
            result = page.evaluate(RUN_AXE, [EXCLUDE, _seen])
    except PlaywrightError as error:
        # Navigated away (or closed) while axe ran: that state no longer exists.
        if any(word in str(error) for word in ("destroyed", "closed", "navigat")):
            log.skipped += 1
            return
        raise
    if result is None:   # unchanged since its last check
        return
    if result["violations"] is None:
        log.same += 1
        return
    log.checked += 1
    violations = result["violations"]
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if failing:
        log.failures.append(describe(url, reason, failing))
    else:
        _seen.append(result["digest"])


def add_to_totals(log: A11yLog) -> None:
    totals.checked += log.checked
    totals.same += log.same
    totals.skipped += log.skipped
    totals.seconds += log.seconds
    totals.failures.extend(log.failures)


def summary() -> str:
    return (f"axe-core: {totals.checked} page states checked, {totals.same} seen before, "
            f"{totals.skipped} gone before their check, {len(totals.failures)} with serious "
            f"or critical violations; {totals.seconds:.1f} s in the checks")


def describe(url: str, reason: str, violations: list[dict]) -> str:
    """A readable report: per rule, its impact, help text and page, and the nodes."""
    lines = [f"{url} ({reason}):"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            lines.append(f"      {node['target']}    {node['html']}")
        if len(v["nodes"]) > 10:
            lines.append(f"      … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)
