"""Local models: the quantized chat model (llama.cpp) and the sentence embedder."""
