using System.Globalization;
using System.Text;

namespace Kindling.Cli;

/// <summary>Writes run-folder files so that a crash at any moment leaves either the old or the new file, never half of one.</summary>
public static class RunFiles
{
    public static void WriteAtomic(string path, string text)
    {
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            fs.Write(bytes);
            fs.Flush(true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static string Csv(IEnumerable<string> header, IEnumerable<IEnumerable<object>> rows)
    {
        var sb = new StringBuilder(string.Join(",", header.Select(Quote))).Append('\n');
        foreach (var r in rows) sb.Append(string.Join(",", r.Select(Fmt))).Append('\n');
        return sb.ToString();
    }

    public static string Fmt(object v) => v switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Quote(v.ToString() ?? ""),
    };

    /// <summary>RFC 4180 quoting: a field with a comma, a quote, a line break or surrounding spaces is quoted, quotes doubled.</summary>
    public static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\r\n") >= 0 || s.Length > 0 && (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1]))
        ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>Creates the folder and checks it is writable, so a bad --out fails before any training.</summary>
    public static void EnsureWritable(string dir)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, ".write-test");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"--out '{dir}' is not writable: {e.Message}");
        }
    }
}
