using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kindling.Data.Text;

/// <summary>
/// Turns text into token ids and back. Every tokenizer Kindling trains with is fitted on the training text only and
/// saved with the model (<see cref="ToJson"/> / <see cref="Tokenizers.FromJson(JsonObject)"/>), so that evaluation and generation
/// use exactly the vocabulary the model was trained on.
/// </summary>
public interface ITokenizer
{
    /// <summary>Short name of the kind: "char", "word" or "gpt2".</summary>
    string Kind { get; }

    /// <summary>Number of distinct ids; every id <see cref="Encode"/> returns is in [0, VocabSize).</summary>
    int VocabSize { get; }

    /// <summary>The ids of <paramref name="text"/>.</summary>
    /// <exception cref="DataException">The text holds something the vocabulary cannot encode (a character never seen in training, for a character vocabulary).</exception>
    int[] Encode(string text);

    /// <summary>The text of <paramref name="ids"/> (the inverse of <see cref="Encode"/> where the tokenizer is lossless).</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The tokenizer's whole state as JSON, with a "kind" member, for saving beside a model.</summary>
    JsonObject ToJson();
}

/// <summary>Loading saved tokenizers.</summary>
public static class Tokenizers
{
    /// <summary>Rebuilds a tokenizer from <see cref="ITokenizer.ToJson"/>'s output.</summary>
    /// <exception cref="DataException">Unknown kind or malformed state.</exception>
    public static ITokenizer FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        string kind = json["kind"]?.GetValue<string>() ?? throw new DataException("Tokenizer state has no \"kind\"; expected \"char\", \"word\" or \"gpt2\".");
        return kind switch
        {
            "char" => CharVocabulary.FromJson(json),
            "word" => WordVocabulary.FromJson(json),
            "gpt2" => Gpt2Tokenizer.Instance,
            _ => throw new DataException($"Unknown tokenizer kind '{kind}'; expected \"char\", \"word\" or \"gpt2\"."),
        };
    }

    /// <summary>Rebuilds a tokenizer from a JSON text written by <see cref="ITokenizer.ToJson"/>.</summary>
    public static ITokenizer FromJson(string json)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (JsonException e) { throw new DataException($"Tokenizer state is not valid JSON: {e.Message}"); }
        return FromJson(node as JsonObject ?? throw new DataException("Tokenizer state must be a JSON object."));
    }
}
