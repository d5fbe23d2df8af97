namespace Kindling.NN;

/// <summary>
/// A model of the next token: ids int64 (B, T) → logits (B, T, V), where position t predicts token t+1.
/// <see cref="StartDecoding"/> gives an incremental decoder that keeps its state (a recurrent state or a key/value cache)
/// so generation costs one position per token instead of a whole pass over the context.
/// </summary>
public interface ILanguageModel
{
    /// <summary>V, the number of token ids.</summary>
    int VocabSize { get; }

    /// <summary>The longest context the model can attend to, or null when unbounded (recurrent models).</summary>
    int? ContextSize { get; }

    /// <summary>Logits (B, T, V) for ids (B, T).</summary>
    Tensor Logits(Tensor ids);

    /// <summary>A fresh incremental decoder for one sequence (batch 1).</summary>
    ILanguageModelDecoder StartDecoding();
}

/// <summary>Feeds a sequence one chunk at a time and returns the next-token logits after each chunk.</summary>
public interface ILanguageModelDecoder
{
    /// <summary>Appends <paramref name="ids"/> (at least one) and returns the logits (V) that predict the token after them.</summary>
    float[] Append(ReadOnlySpan<int> ids);
}
