"""Report pages: the one HTML toolkit (reports.html), plots (reports.plots) and the run report
(reports.run: reports/index.html linking every stage's page). A toolkit, not a stage: this
package imports nothing, so any stage can use reports.html without pulling the others."""
