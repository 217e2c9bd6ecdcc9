"""One module per `scaiwave sync` sub-command; each imports only click and the core's light API
at module level."""
