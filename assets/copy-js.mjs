// Copies the GOV.UK Frontend script, and our two small start-up scripts, into static/, so
// Django's staticfiles serves them without a bundler. GOV.UK Frontend's fonts and images (the
// crest, the crown favicons and icons, and the manifest that lists them) are GOV.UK branding, which
// a service not on GOV.UK may not use, so none of them is copied.
import { cpSync, mkdirSync } from "node:fs";

const source = "node_modules/govuk-frontend/dist/govuk";
mkdirSync("static/build", { recursive: true });
cpSync(`${source}/govuk-frontend.min.js`, "static/build/govuk-frontend.min.js");
cpSync("assets/js/body-class.js", "static/build/body-class.js");
cpSync("assets/js/init.js", "static/build/init.js");
