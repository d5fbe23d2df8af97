using System.Text;
using System.Text.Json.Nodes;

namespace Kindling.Data.Text;

/// <summary>
/// A character-level vocabulary, as nanoGPT's <c>shakespeare_char</c> builds it: the distinct characters of the
/// training text sorted by code point, id = rank. Characters are UTF-16 code units (Shakespeare's 65 characters are
/// all ASCII; a surrogate pair is two tokens).
/// </summary>
public sealed class CharVocabulary : ITokenizer
{
    private readonly char[] _chars;
    private readonly Dictionary<char, int> _ids;

    private CharVocabulary(char[] sortedChars, char? unknown = null)
    {
        _chars = sortedChars;
        Unknown = unknown;
        _ids = new Dictionary<char, int>(sortedChars.Length);
        for (int i = 0; i < sortedChars.Length; i++) _ids[sortedChars[i]] = i;
    }

    /// <summary>The vocabulary of the distinct characters of <paramref name="trainingText"/> (fit on the training split only).</summary>
    /// <param name="trainingText">The training text.</param>
    /// <param name="unknown">
    /// When given, this character joins the vocabulary and every character never seen in training encodes as it
    /// (text held out from training may hold characters the training text lacks); when null (default, nanoGPT's
    /// behaviour) such a character is an error.
    /// </param>
    /// <exception cref="DataException">The text is empty.</exception>
    public static CharVocabulary Fit(string trainingText, char? unknown = null)
    {
        ArgumentNullException.ThrowIfNull(trainingText);
        if (trainingText.Length == 0) throw new DataException("Cannot fit a character vocabulary on empty text.");
        var seen = new HashSet<char>(trainingText);
        if (unknown is char u) seen.Add(u);
        var chars = seen.ToArray();
        Array.Sort(chars);
        return new CharVocabulary(chars, unknown);
    }

    /// <summary>The character unseen characters encode as, or null when they are an error.</summary>
    public char? Unknown { get; }

    /// <inheritdoc/>
    public string Kind => "char";

    /// <inheritdoc/>
    public int VocabSize => _chars.Length;

    /// <summary>The characters in id order.</summary>
    public IReadOnlyList<char> Characters => _chars;

    /// <summary>The id of <paramref name="c"/>, or −1 when it is not in the vocabulary.</summary>
    public int IdOf(char c) => _ids.TryGetValue(c, out int id) ? id : -1;

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!_ids.TryGetValue(text[i], out ids[i]))
                ids[i] = Unknown is char u ? _ids[u] : throw new DataException($"Character {Describe(text[i])} at position {i} was never seen in the training text " +
                    $"(the vocabulary has {_chars.Length} characters); remove it, or train on text that contains it.");
        }
        return ids;
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_chars.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {id} is outside the character vocabulary [0, {_chars.Length}).");
            sb.Append(_chars[id]);
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["kind"] = Kind, ["chars"] = new string(_chars) };
        if (Unknown is char u) json["unknown"] = u.ToString();
        return json;
    }

    internal static CharVocabulary FromJson(JsonObject json)
    {
        string chars = json["chars"]?.GetValue<string>() ?? throw new DataException("Character vocabulary state has no \"chars\".");
        var arr = chars.ToCharArray();
        for (int i = 1; i < arr.Length; i++)
            if (arr[i] <= arr[i - 1]) throw new DataException("Character vocabulary state is corrupt: \"chars\" must be strictly increasing.");
        if (arr.Length == 0) throw new DataException("Character vocabulary state is corrupt: \"chars\" is empty.");
        char? unknown = null;
        if (json["unknown"]?.GetValue<string>() is { } us)
        {
            if (us.Length != 1 || Array.BinarySearch(arr, us[0]) < 0) throw new DataException("Character vocabulary state is corrupt: \"unknown\" must be one of its characters.");
            unknown = us[0];
        }
        return new CharVocabulary(arr, unknown);
    }

    internal static string Describe(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}' (U+{(int)c:X4})";
}
