"""Language models: the LM protocol, the OpenAI-compatible client, the response cache,
the embedded llama.cpp server, and scripted fakes for tests."""
