using System.Text;
using Kindling.Data;
using Kindling.Data.Text;

namespace Kindling.Cli;

/// <summary>
/// The text of a language-model run: an embedded corpus (<c>shakespeare</c>) or a UTF-8 text file, split as nanoGPT
/// splits it (first 90% training, then validation, then test), tokenized by a vocabulary fitted on the training part.
/// </summary>
public sealed record TextSource(string Name, ITokenizer Tokenizer, TokenCorpus Train, TokenCorpus Validation, TokenCorpus Test,
    int TestCharacters, string Sha256, IReadOnlyList<string> Notes)
{
    /// <summary>Whether <paramref name="data"/> names text for a language model: an embedded corpus or a .txt file.</summary>
    public static bool IsText(string data) =>
        Datasets.TextNames.Contains(data.Trim().ToLowerInvariant()) || data.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);

    public static TextSource Load(string data, string tokenizer, TokenizerState? saved = null)
    {
        string text = ReadText(data);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var notes = new List<string>();
        int nTrain = (int)(text.Length * 0.9), nVal = (text.Length - nTrain) / 2;
        string train = text[..nTrain], val = text.Substring(nTrain, nVal), test = text[(nTrain + nVal)..];
        if (val.Length < 2 || test.Length < 2)
            throw new UserError($"--data {data}: {text.Length} characters are too few to hold out validation and test text (10% of it); give a longer text.");
        ITokenizer tok = saved?.Tokenizer ?? tokenizer switch
        {
            "char" => FitChars(train, val + test, notes),
            "gpt2" => Gpt2Tokenizer.Instance,
            _ => throw new UserError($"--tokenizer: '{tokenizer}' is not a tokenizer; use char or gpt2."),
        };
        var trainC = new TokenCorpus(tok.Encode(train), tok.VocabSize);
        var valC = new TokenCorpus(tok.Encode(val), tok.VocabSize);
        var testC = new TokenCorpus(tok.Encode(test), tok.VocabSize);
        return new TextSource(data, tok, trainC, valC, testC, test.Length, sha, notes);
    }

    private static ITokenizer FitChars(string train, string heldOut, List<string> notes)
    {
        var plain = CharVocabulary.Fit(train);
        int unseen = heldOut.Count(ch => plain.IdOf(ch) < 0);
        if (unseen == 0) return plain;
        // Held-out text with characters the training text lacks: score them as one unknown character rather than fail.
        notes.Add($"{unseen} validation/test characters never occur in the training text; they count as one unknown character (U+FFFD).");
        return CharVocabulary.Fit(train, '\uFFFD');
    }

    private static string ReadText(string data)
    {
        if (Datasets.TextNames.Contains(data.Trim().ToLowerInvariant())) return Datasets.LoadText(data);
        if (Directory.Exists(data)) throw new UserError($"--data {data}: is a folder; give a UTF-8 text file.");
        if (!File.Exists(data)) throw new UserError($"--data {data}: no such file.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(data); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserError($"--data {data}: cannot read it ({e.Message})."); }
        if (bytes.Length == 0) throw new UserError($"--data {data}: the file is empty.");
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0) throw new UserError($"--data {data}: byte {nul} is NUL, so this is not a text file; give UTF-8 text.");
        try { return new UTF8Encoding(false, true).GetString(bytes).TrimStart('\uFEFF'); }
        catch (DecoderFallbackException e) { throw new UserError($"--data {data}: not valid UTF-8 (byte {e.Index}); convert it to UTF-8 first."); }
    }
}

/// <summary>A saved tokenizer (tokenizer.json of a run).</summary>
public sealed record TokenizerState(ITokenizer Tokenizer)
{
    public static TokenizerState Read(string dir)
    {
        var path = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(path)) throw new UserError($"{dir}: no tokenizer.json; this is not a language-model run folder.");
        try { return new TokenizerState(Tokenizers.FromJson(File.ReadAllText(path))); }
        catch (DataException e) { throw new UserError($"{path}: {e.Message}"); }
    }
}
