"""The back office: every signed-in page, for a brand's people, a distributor's portal and the platform's
operators. Pages only (views and their URLs, one module per area): models, services, queries, tasks, admin and
commands stay in the domain apps, which never import this one (STYLE.md's layer order)."""
