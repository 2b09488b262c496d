"""Chat models: the bundled Qwen2.5-Coder GGUF through llama.cpp, or any OpenAI-compatible server."""
