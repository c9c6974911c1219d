"""The tutorial's demo question and context, defined once: no imports, so that the stdlib client
(bertkit/serve/client.py) takes it without loading torch."""

DEMO = {"question": "What is the capital of China?", "context": "The capital of China is Beijing."}
