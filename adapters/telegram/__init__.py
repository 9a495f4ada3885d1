"""The Telegram adapter: python-telegram-bot v22 in front of the dialogue core.

`convert` turns Updates into `IncomingMessage`s, `render` turns `Reply`s into Bot API calls,
`bot` wires both into a PTB `Application`, and `run` is `shopguide telegram`.
"""

PLATFORM = "telegram"
