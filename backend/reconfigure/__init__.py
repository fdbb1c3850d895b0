"""What changes the running configuration while the gateway serves: the reloader (the
file changed, SIGHUP, or an entry made in the browser changed here or on another
gateway) and the changes people make to targets and alert rules at run time (the
`/targets` page and `/api/v1/targets` alike). Runtime services, above `config/` (the
schema and its loading), `monitor/` and `auth/`; only the composition root, the API
and the pages use them."""
