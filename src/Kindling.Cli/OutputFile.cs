using Kindling.IO;

namespace Kindling.Cli;

/// <summary>
/// Writes a file the user named as a command's output (predict --out, export --onnx) so that it never destroys what the
/// path names: an output that is one of the command's inputs, or a file inside a run folder, is refused; '-' is
/// standard output; character devices and FIFOs (and links to them) are written through, never renamed over; an
/// existing regular file is replaced atomically (a temporary file beside it, renamed over it) and the caller is told.
/// </summary>
public static class OutputFile
{
    /// <summary>How the output was written, for the command's closing line.</summary>
    public enum Outcome { Created, Replaced, WrittenThrough, Stdout }

    /// <summary>
    /// Checks <paramref name="path"/> (given as <paramref name="option"/>) against the command's <paramref name="inputs"/>
    /// (option name and path) before any work is done, so a bad output fails fast.
    /// </summary>
    public static void Check(string path, string option, IEnumerable<(string Option, string Path)> inputs)
    {
        if (path.Length == 0) throw new UserError($"{option} is empty; give a file name (or - for standard output).");
        if (path == "-") return;
        var kind = FileKind.Of(path);
        if (kind == FileType.Directory) throw new UserError($"{option} '{path}' is a folder; give a file name inside it, e.g. {option} {Path.Combine(path, DefaultName(option))}.");
        if (kind is FileType.BlockDevice or FileType.Socket or FileType.Other)
            throw new UserError($"{option} '{path}' is a {(kind == FileType.BlockDevice ? "block device (a disk)" : "socket or special file")}; write to a regular file, a pipe, a character device or - (standard output).");
        foreach (var (inOption, input) in inputs)
        {
            if (kind != FileType.Missing && FileKind.SameFile(path, input))
                throw new UserError($"{option} '{path}' is the same file as the input {inOption} '{input}'; writing it would destroy the input. Choose another output file.");
            // An input folder (a run, an IDX folder) must not receive the output either: it would mix into what is read.
            if (FileKind.Of(input) == FileType.Directory && kind is FileType.Missing or FileType.Regular && IsInside(path, input) && inOption != "RUN")
                throw new UserError($"{option} '{path}' is inside the input folder {inOption} '{input}'; choose an output outside it.");
        }
        if (kind == FileType.Regular && RunFolderOf(path) is { } run)
            throw new UserError($"{option} '{path}' is a file of the run folder '{run}', which this command did not write; replacing it could destroy the run. Choose a new file name or write outside the run folder.");
    }

    private static string DefaultName(string option) => option == "--onnx" ? "model.onnx" : "predictions.csv";

    /// <summary>True when <paramref name="path"/> lies (after resolving links) inside the folder <paramref name="folder"/>.</summary>
    public static bool IsInside(string path, string folder)
    {
        var p = FileKind.Resolve(path);
        var f = FileKind.Resolve(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return p.StartsWith(f, StringComparison.Ordinal);
    }

    /// <summary>The nearest folder above <paramref name="path"/> that is a Kindling run (config.json or a run lock), or null.</summary>
    public static string? RunFolderOf(string path)
    {
        var dir = Path.GetDirectoryName(FileKind.Resolve(path));
        while (!string.IsNullOrEmpty(dir))
        {
            if (OutFolder.IsRun(dir)) return dir;
            dir = Path.GetDirectoryName(dir);
        }
        return null;
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> by the rules above (call <see cref="Check"/> first).</summary>
    public static Outcome Write(string path, string option, string text)
    {
        // Text on standard output goes through Console.Out (its encoding, and whatever the host redirected it to).
        if (path == "-") { Console.Out.Write(text); Console.Out.Flush(); return Outcome.Stdout; }
        return Write(path, option, System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> by the rules above (call <see cref="Check"/> first).</summary>
    public static Outcome Write(string path, string option, ReadOnlySpan<byte> content)
    {
        try
        {
            if (path == "-")
            {
                using var stdout = Console.OpenStandardOutput();
                stdout.Write(content);
                stdout.Flush();
                return Outcome.Stdout;
            }
            var kind = FileKind.Of(path);
            if (kind is FileType.CharacterDevice or FileType.Fifo)
            {
                // Devices and pipes are written through: renaming a file over /dev/null (as root) or over a FIFO a reader
                // waits on would replace the node itself.
                using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
                fs.Write(content);
                fs.Flush();
                return Outcome.WrittenThrough;
            }
            // A link to a regular file: replace the file it points to and keep the link.
            var target = kind == FileType.Regular ? FileKind.Resolve(path) : Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(target)!;
            Directory.CreateDirectory(dir);
            var tmp = Path.Combine(dir, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            try
            {
                using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    fs.Write(content);
                    fs.Flush(true);
                }
                File.Move(tmp, target, overwrite: true);
            }
            finally { if (File.Exists(tmp)) File.Delete(tmp); }
            return kind == FileType.Regular ? Outcome.Replaced : Outcome.Created;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"{option} '{path}' could not be written: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>"wrote X" / "replaced the existing file X" for the closing line.</summary>
    public static string Describe(Outcome o, string path) => o switch
    {
        Outcome.Replaced => $"{path} (replaced the existing file)",
        Outcome.Stdout => "standard output",
        _ => path,
    };
}
