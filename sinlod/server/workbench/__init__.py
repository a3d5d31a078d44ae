"""The steward's workbench: pages for the people who keep the data, not for its readers
(``/validate``: a spreadsheet checked in the browser, previewed and published)."""
