"""Platform adapters: translate platform events into `IncomingMessage` and render `Reply`."""
