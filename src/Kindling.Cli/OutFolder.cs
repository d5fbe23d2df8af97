using Kindling.IO;

namespace Kindling.Cli;

/// <summary>
/// The --out folder of train and compare before a new run writes it. A run writes a fixed set of file names; any of them
/// already there belongs to an earlier run, and leaving it would let a new run that is killed early look finished (eval
/// would score the old model on the new split; --resume would continue the new configuration from the old checkpoint).
/// So without --overwrite such a folder is refused, and with it the earlier run's files are deleted before anything
/// else is written. Files Kindling did not write are never deleted, and an input that one of those names would replace
/// (--data, --test, --init inside the folder) is refused.
/// </summary>
public static class OutFolder
{
    /// <summary>Every file name train and compare write into a run folder (besides the lock and temporary files).</summary>
    public static readonly HashSet<string> RunFileNames =
    [
        "config.json", "model.safetensors", "scaler.safetensors", "checkpoint.safetensors", "best.safetensors", "epochs.csv", "steps.csv",
        "test_metrics.json", "report.html", "loss.svg", "metric.svg", "steps.svg", "lr.svg", "summary.csv", "compare_metric.svg",
        "compare_loss.svg", ".write-test", "baselines.json", "bits.svg", "calls.csv", "eval.csv", "pairs.csv", "residuals.svg", "runs.csv",
        "samples.txt", "tokenizer.json",
    ];

    private const string LockName = ".lock";

    /// <summary>True when <paramref name="dir"/> is a Kindling run or comparison folder.</summary>
    public static bool IsRun(string dir) =>
        File.Exists(Path.Combine(dir, "config.json")) || File.Exists(Path.Combine(dir, LockName)) || File.Exists(Path.Combine(dir, "compare_metric.svg"));

    // A file Kindling writes (by name, a temporary file, or a per-loss reliability plot), or a folder holding only such
    // files and folders (compare's LOSS/seed-N runs).
    private static bool Written(string entry) =>
        File.Exists(entry) && (RunFileNames.Contains(Path.GetFileName(entry)) || entry.EndsWith(".tmp", StringComparison.Ordinal)
                               || Path.GetFileName(entry).StartsWith("reliability_", StringComparison.Ordinal) && entry.EndsWith(".svg", StringComparison.Ordinal))
        || Directory.Exists(entry) && Directory.EnumerateFileSystemEntries(entry).Any(e => Path.GetFileName(e) != LockName)
                                   && Directory.EnumerateFileSystemEntries(entry).All(e => Written(e) || Path.GetFileName(e) == LockName);

    /// <summary>Refuses an --out that exists as a file, before the folder is created or locked.</summary>
    public static void CheckNotAFile(string? dir)
    {
        if (dir == null) return;
        var kind = FileKind.Of(dir);
        if (kind is not (FileType.Missing or FileType.Directory))
            throw new UserError($"--out '{dir}' is a file, not a folder; give a folder name for the run (e.g. --out runs/my-run).");
    }

    /// <summary>
    /// Called with the folder locked: refuses a folder holding an earlier run (unless <paramref name="overwrite"/>) and
    /// deletes that run's files when overwriting. Returns a note for the user, or null.
    /// </summary>
    public static string? Prepare(string dir, bool overwrite, IEnumerable<(string Option, string? Path)> inputs)
    {
        var old = Directory.EnumerateFileSystemEntries(dir).Where(Written).ToList();
        foreach (var (option, input) in inputs)
        {
            if (input == null || FileKind.Of(input) == FileType.Missing) continue;
            foreach (var e in old.Concat(RunFileNames.Select(n => Path.Combine(dir, n))))
                if (FileKind.SameFile(e, input) || Directory.Exists(e) && OutputFile.IsInside(input, e))
                    throw new UserError($"{option} '{input}' is inside --out '{dir}' where the run writes {Path.GetFileName(e)}; the run would destroy its own input. Move the file out of the folder (or choose another --out) first.");
        }
        if (old.Count == 0) return null;
        if (!overwrite)
            throw new UserError($"--out '{dir}' already holds a run's files ({string.Join(", ", old.Take(4).Select(Path.GetFileName))}{(old.Count > 4 ? ", …" : "")}); pass --overwrite to replace it, or --resume {dir} to continue it.");
        foreach (var e in old)
        {
            try
            {
                if (Directory.Exists(e)) Directory.Delete(e, recursive: true);
                else File.Delete(e);
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
                throw new UserError($"--overwrite: could not delete the earlier run's {e}: {x.Message}; delete the folder '{dir}' yourself and start again.");
            }
        }
        return $"--overwrite: deleted the earlier run's {old.Count} file{(old.Count == 1 ? "" : "s")} in {dir} before starting";
    }
}
