using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kindling.Data.Text;

/// <summary>
/// A word-level vocabulary, as torchtext's <c>build_vocab_from_iterator</c> with <c>basic_english</c> tokenization
/// builds one: text is (optionally) lower-cased and split into words (runs of letters, digits and apostrophes) and
/// single punctuation marks; the words seen at least <c>minCount</c> times in the training rows get ids by descending
/// frequency (ties by ordinal order, so fitting is deterministic). Id 0 is <see cref="PadToken"/> and id 1
/// <see cref="UnknownToken"/>: words never seen in training encode as unknown rather than failing.
/// </summary>
public sealed partial class WordVocabulary : ITokenizer
{
    /// <summary>The padding token, id 0.</summary>
    public const string PadToken = "<pad>";

    /// <summary>The unknown-word token, id 1.</summary>
    public const string UnknownToken = "<unk>";

    /// <summary>Id of <see cref="PadToken"/>.</summary>
    public const int PadId = 0;

    /// <summary>Id of <see cref="UnknownToken"/>.</summary>
    public const int UnknownId = 1;

    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;

    private WordVocabulary(string[] words, bool lowerCase)
    {
        _words = words;
        LowerCase = lowerCase;
        _ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++) _ids[words[i]] = i;
    }

    /// <summary>Whether text is lower-cased (invariant culture) before splitting.</summary>
    public bool LowerCase { get; }

    /// <inheritdoc/>
    public string Kind => "word";

    /// <inheritdoc/>
    public int VocabSize => _words.Length;

    /// <summary>The tokens in id order, starting with <see cref="PadToken"/> and <see cref="UnknownToken"/>.</summary>
    public IReadOnlyList<string> Words => _words;

    /// <summary>
    /// Fits the vocabulary on training rows only.
    /// </summary>
    /// <param name="trainingRows">The training texts.</param>
    /// <param name="lowerCase">Lower-case before splitting (default true).</param>
    /// <param name="minCount">Keep words seen at least this many times (default 1).</param>
    /// <param name="maxSize">At most this many tokens including the two special ones (default: no limit).</param>
    public static WordVocabulary Fit(IEnumerable<string> trainingRows, bool lowerCase = true, int minCount = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(trainingRows);
        if (minCount < 1) throw new ArgumentOutOfRangeException(nameof(minCount), $"minCount must be at least 1, got {minCount}.");
        if (maxSize is < 2) throw new ArgumentOutOfRangeException(nameof(maxSize), $"maxSize must be at least 2 (the padding and unknown tokens), got {maxSize}.");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in trainingRows)
            foreach (var w in Split(row ?? "", lowerCase))
                counts[w] = counts.GetValueOrDefault(w) + 1;
        var kept = counts.Where(kv => kv.Value >= minCount && kv.Key != PadToken && kv.Key != UnknownToken)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key);
        if (maxSize is int m) kept = kept.Take(m - 2);
        return new WordVocabulary([PadToken, UnknownToken, .. kept], lowerCase);
    }

    /// <summary>The tokens of <paramref name="text"/> before lookup (lower-cased when <paramref name="lowerCase"/>).</summary>
    public static IEnumerable<string> Split(string text, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (lowerCase) text = text.ToLowerInvariant();
        foreach (Match m in TokenPattern().Matches(text)) yield return m.Value;
    }

    /// <summary>The id of <paramref name="token"/>, or <see cref="UnknownId"/>.</summary>
    public int IdOf(string token) => _ids.TryGetValue(token, out int id) ? id : UnknownId;

    /// <inheritdoc/>
    public int[] Encode(string text) => Split(text, LowerCase).Select(IdOf).ToArray();

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return string.Join(' ', ids.Where(id => id != PadId).Select(id => (uint)id < (uint)_words.Length ? _words[id]
            : throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is outside the word vocabulary [0, {_words.Length}).")));
    }

    /// <summary>Fraction of the tokens of <paramref name="rows"/> that are unknown to this vocabulary (0 when there are none).</summary>
    public double UnknownRate(IEnumerable<string> rows)
    {
        long total = 0, unknown = 0;
        foreach (var r in rows) foreach (int id in Encode(r ?? "")) { total++; if (id == UnknownId) unknown++; }
        return total == 0 ? 0 : (double)unknown / total;
    }

    /// <inheritdoc/>
    public JsonObject ToJson() => new()
    {
        ["kind"] = Kind,
        ["lower_case"] = LowerCase,
        ["words"] = new JsonArray(_words.Select(w => (JsonNode)JsonValue.Create(w)!).ToArray()),
    };

    internal static WordVocabulary FromJson(JsonObject json)
    {
        var arr = json["words"] as JsonArray ?? throw new DataException("Word vocabulary state has no \"words\" array.");
        var words = arr.Select(n => n?.GetValue<string>() ?? throw new DataException("Word vocabulary state holds a null word.")).ToArray();
        if (words.Length < 2 || words[PadId] != PadToken || words[UnknownId] != UnknownToken)
            throw new DataException($"Word vocabulary state is corrupt: it must start with \"{PadToken}\", \"{UnknownToken}\".");
        if (words.Distinct(StringComparer.Ordinal).Count() != words.Length)
            throw new DataException("Word vocabulary state is corrupt: a word appears twice.");
        return new WordVocabulary(words, json["lower_case"]?.GetValue<bool>() ?? true);
    }

    [GeneratedRegex(@"[\p{L}\p{N}\p{M}']+|[^\s\p{L}\p{N}\p{M}]")]
    private static partial Regex TokenPattern();
}
