"""Explanations, audits and the HTML report. Works on arrays and frames handed over by the
result object; never imports it."""
