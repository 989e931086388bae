// Runs before the page is drawn (a classic script at the top of <body>) so GOV.UK Frontend's
// JavaScript-only styles apply without a flash. A file rather than an inline script, so the
// Content-Security-Policy can forbid inline scripts.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
