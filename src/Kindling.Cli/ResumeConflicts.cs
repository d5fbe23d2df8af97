using System.Text.Json.Nodes;
using Kindling.IO;

namespace Kindling.Cli;

/// <summary>
/// --resume continues a run exactly as it was configured: an option given beside it that would change the run (another
/// --data, --hidden, --lr, --model, ...) is refused, each one named with the run's own value; an option repeating the
/// run's value is accepted. Only --epochs (train further) and --threads (speed only) may change.
/// </summary>
public static class ResumeConflicts
{
    private static readonly HashSet<string> MayChange = ["--epochs", "--threads", "--resume"];
    private static readonly HashSet<string> Paths = ["--data", "--test", "--init", "--out"];

    /// <param name="given">The names of the options given explicitly on the command line.</param>
    public static void Check(string run, TrainConfig recorded, TrainConfig parsed, IEnumerable<string> given)
    {
        var was = JsonNode.Parse(recorded.ToJson())!.AsObject();
        var now = JsonNode.Parse(parsed.ToJson())!.AsObject();
        var conflicts = new List<string>();
        foreach (var option in given)
        {
            if (MayChange.Contains(option)) continue;
            if (option == "--overwrite") { conflicts.Add("--overwrite (a resumed run continues its folder; it does not replace it)"); continue; }
            var key = option.TrimStart('-').Replace('-', '_');
            var a = was[key]?.ToJsonString() ?? "null";
            var b = now[key]?.ToJsonString() ?? "null";
            if (a == b || option == "--lr" && recorded.LearningRate == parsed.LearningRate) continue;
            if (Paths.Contains(option) && was[key]?.GetValue<string>() is { } p && now[key]?.GetValue<string>() is { } q && FileKind.SameFile(p, q)) continue;
            conflicts.Add(option == "--lr" ? $"--lr {parsed.LearningRate:G} (the run has {recorded.LearningRate:G})" : $"{option} {Show(now[key])} (the run has {Show(was[key])})");
        }
        if (conflicts.Count > 0)
            throw new UserError($"--resume {run} continues the run as it was configured, but {string.Join("; ", conflicts)} {(conflicts.Count == 1 ? "differs" : "differ")}. Only --epochs and --threads may change on resume; to train differently start a new run with --out.");
    }

    private static string Show(JsonNode? v) => v switch
    {
        null => "unset",
        JsonArray a => string.Join(",", a.Select(x => x?.ToString())),
        _ => v.ToString(),
    };
}
