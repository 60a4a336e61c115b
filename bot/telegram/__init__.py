"""The Telegram layer under the handlers: button data (buttons.py), keyboards
(keyboards.py), the typed handler context (context.py), job wrappers (jobs.py) and the
outbox sender (sender.py). Services below it hold no Telegram types."""
