// Copies the GOV.UK Frontend script and images (not its fonts), and our two small start-up
// scripts, into static/, so Django's staticfiles serves them without a bundler.
import { cpSync, mkdirSync } from "node:fs";

const source = "node_modules/govuk-frontend/dist/govuk";
mkdirSync("static/build", { recursive: true });
cpSync(`${source}/govuk-frontend.min.js`, "static/build/govuk-frontend.min.js");
cpSync("assets/js/body-class.js", "static/build/body-class.js");
cpSync("assets/js/init.js", "static/build/init.js");
cpSync(`${source}/assets/images`, "static/govuk/assets/images", { recursive: true });
cpSync(`${source}/assets/manifest.json`, "static/govuk/assets/manifest.json");
