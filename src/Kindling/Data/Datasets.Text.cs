using System.IO.Compression;
using System.Text;

namespace Kindling.Data;

public static partial class Datasets
{
    /// <summary>The embedded text corpora <see cref="LoadText"/> accepts.</summary>
    public static IReadOnlyList<string> TextNames { get; } = ["shakespeare"];

    /// <summary>
    /// tiny-shakespeare: 1,115,394 characters (65 distinct) of Shakespeare's plays as Andrej Karpathy collected them for
    /// char-rnn (MIT licence; the text is in the public domain), embedded gzipped (434 KB), so language-model examples and
    /// tests run offline. nanoGPT trains on the first 90% and validates on the rest (<see cref="Text.TokenCorpus.Split"/>).
    /// </summary>
    public static string Shakespeare()
    {
        using var s = typeof(Datasets).Assembly.GetManifestResourceStream("Kindling.Data.Resources.tinyshakespeare.txt.gz")
            ?? throw new DataException("The embedded tiny-shakespeare resource is missing from the Kindling assembly (a build problem).");
        using var gz = new GZipStream(s, CompressionMode.Decompress);
        using var reader = new StreamReader(gz, new UTF8Encoding(false, true));
        return reader.ReadToEnd();
    }

    /// <summary>An embedded text corpus by name ("shakespeare"; case-insensitive).</summary>
    /// <exception cref="DataException">Unknown name; the message lists the available ones.</exception>
    public static string LoadText(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "shakespeare" or "tinyshakespeare" or "tiny-shakespeare" => Shakespeare(),
            _ => throw new DataException($"Unknown built-in text corpus '{name}'. Available: {string.Join(", ", TextNames)}."),
        };
    }
}
