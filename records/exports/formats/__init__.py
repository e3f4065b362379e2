"""One writer per export format; each takes the redacted items in order (``reader.Item``)
and writes its files into the bag (``package.Bag``)."""
