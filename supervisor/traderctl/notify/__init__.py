"""Notifications: the built-in plugin (:mod:`.plugin`) feeding the notifier (:mod:`.notifier`)."""
