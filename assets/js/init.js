// Starts GOV.UK Frontend's components; a module file rather than an inline script, for the CSP.
import { initAll } from "./govuk-frontend.min.js";

initAll();
