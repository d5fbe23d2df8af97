using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Kindling.Data.Text;

/// <summary>
/// GPT-2's byte-level BPE (50,257 tokens), through <c>Microsoft.ML.Tokenizers</c> and its embedded <c>gpt2.tiktoken</c>
/// data (pure managed; no download). It is not fitted: the same vocabulary serves every corpus, so only its kind is saved.
/// Lossless: <c>Decode(Encode(s)) == s</c> for any text.
/// </summary>
public sealed class Gpt2Tokenizer : ITokenizer
{
    private static readonly Lazy<Gpt2Tokenizer> Lazy = new(() => new Gpt2Tokenizer());
    private readonly TiktokenTokenizer _bpe;

    private Gpt2Tokenizer() => _bpe = TiktokenTokenizer.CreateForModel("gpt2");

    /// <summary>The shared instance (the vocabulary is large: build it once).</summary>
    public static Gpt2Tokenizer Instance => Lazy.Value;

    /// <inheritdoc/>
    public string Kind => "gpt2";

    /// <summary>50,257: 50,000 merges, 256 bytes and <c>&lt;|endoftext|&gt;</c>.</summary>
    public int VocabSize => 50257;

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _bpe.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true).ToArray();
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var list = ids as IReadOnlyList<int> ?? ids.ToArray();
        foreach (int id in list)
            if ((uint)id >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is outside GPT-2's vocabulary [0, {VocabSize}).");
        return _bpe.Decode(list) ?? "";
    }

    /// <inheritdoc/>
    public JsonObject ToJson() => new() { ["kind"] = Kind };
}
