// Starts GOV.UK Frontend's components. A file of its own because the pages'
// Content-Security-Policy allows no inline script. Loaded as a module, so only browsers
// that GOV.UK Frontend supports run it; without it every page still works.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
