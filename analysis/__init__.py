"""Publication outputs from stored results: tidy tables, paper tables, plots, figures, reports.

Reads only stored files (results JSON, ``run.json``, ``complexity.json``, logs, saved images);
never imports training code or models.
"""
