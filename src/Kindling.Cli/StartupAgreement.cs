using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kindling.Distributed;

namespace Kindling.Cli;

/// <summary>
/// Under mpirun every rank of a training run meets once before training, whether its start-up succeeded or failed:
/// one all-gather of (status, error hash, one hash per configuration field, the data fingerprint among them). Ranks
/// started with different options or data (another --hidden, --lr, --seed or file on one rank) are refused with one
/// line naming each field and rank, instead of training to exit 0 or ending in a stack trace; an error met only by some
/// ranks is printed by each of them, prefixed with its rank; an error every rank met is printed once, by rank 0.
/// </summary>
public static class StartupAgreement
{
    /// <summary>Set by the train command on every rank: the ranks will meet (successful ones in <see cref="Check"/>).</summary>
    public static bool Expected { get; set; }
    /// <summary>True once the ranks have met: errors after it are printed by the rank that met them.</summary>
    public static bool Done { get; private set; }

    // Fields that may differ between ranks (where each writes nothing, and its own thread count).
    private static readonly HashSet<string> PerRank = [nameof(TrainConfig.Threads), nameof(TrainConfig.Out)];
    private static readonly string[] Fields = typeof(TrainConfig).GetProperties().Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && !PerRank.Contains(p.Name))
        .Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    private static readonly JsonSerializerOptions Compact = new(TrainConfig.Json) { WriteIndented = false };

    private static long Hash(string s) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(s)), 0);

    private static long[] Gather(long status, long error, long[] fields)
    {
        Done = true;
        var send = new long[2 + Fields.Length];
        send[0] = status; send[1] = error;
        fields.CopyTo(send, 2);
        return Distributed.Distributed.AllGather<long>(send);
    }

    /// <summary>A successful rank's side: refuses a job whose ranks disagree, or in which another rank failed.</summary>
    public static void Check(TrainConfig resolved)
    {
        if (!Distributed.Distributed.IsDistributed) return;
        var values = Fields.Select(f => Hash(f + "=" + JsonSerializer.Serialize(typeof(TrainConfig).GetProperty(f)!.GetValue(resolved), TrainConfig.Json))).ToArray();
        var all = Gather(0, 0, values);
        int width = 2 + Fields.Length, world = Distributed.Distributed.WorldSize;
        var failed = Enumerable.Range(0, world).Where(r => all[r * width] != 0).ToList();
        if (failed.Count > 0)
            throw new AgreementError($"rank{(failed.Count == 1 ? "" : "s")} {string.Join(", ", failed)} failed at start (see {(failed.Count == 1 ? "its" : "their")} error above); every process stops.");
        var differ = new List<(int Rank, string Field)>();
        for (int r = 1; r < world; r++)
            for (int f = 0; f < Fields.Length; f++)
                if (all[r * width + 2 + f] != all[2 + f]) differ.Add((r, Fields[f]));
        if (differ.Count == 0) return;
        var first = differ[0].Field;
        var value = JsonSerializer.Serialize(typeof(TrainConfig).GetProperty(first)!.GetValue(resolved), Compact);
        if (value.Length > 60) value = value[..57] + "…";
        throw new AgreementError($"the processes were started differently: {string.Join(", ", differ.Take(8).Select(d => $"rank {d.Rank}'s {Describe(d.Field)}"))}{(differ.Count > 8 ? ", …" : "")} differ{(differ.Count == 1 ? "s" : "")} from rank 0's (rank 0 has {Describe(first)} {value}); start every process with the same options and data (one mpirun command line, one file).");
    }

    /// <summary>The option behind a configuration field, or what it stands for.</summary>
    private static string Describe(string field) => field switch
    {
        nameof(TrainConfig.DataSha256) => "data (its SHA-256)",
        nameof(TrainConfig.Lr) => "--lr",
        nameof(TrainConfig.FeatureNames) => "data columns",
        nameof(TrainConfig.ClassNames) => "classes",
        nameof(TrainConfig.ResolvedTask) => "task",
        nameof(TrainConfig.ResolvedLoss) => "loss",
        nameof(TrainConfig.TargetNames) => "target columns",
        nameof(TrainConfig.Outputs) => "model outputs",
        nameof(TrainConfig.KindlingVersion) => "Kindling version",
        _ => "--" + JsonNamingPolicy.KebabCaseLower.ConvertName(field),
    };

    /// <summary>
    /// A failing rank's side (Program's error handler): meets the others, then prints <paramref name="message"/> unless
    /// rank 0 failed with the same one (then rank 0 alone prints it). Returns whether this rank should print.
    /// </summary>
    public static bool ShouldPrint(string message)
    {
        if (!Distributed.Distributed.IsDistributed) return true;
        if (!Expected && !Done) return Distributed.Distributed.IsMain; // eval, predict, export: every rank meets the same error
        if (Done) return true;
        var all = Gather(1, Hash(message), new long[Fields.Length]);
        if (Distributed.Distributed.IsMain) return true;
        return all[0] == 0 || all[1] != Hash(message);
    }

    /// <summary>"rank 1/2: " on ranks after the first of a distributed job, else empty.</summary>
    public static string Prefix => Distributed.Distributed.IsDistributed && !Distributed.Distributed.IsMain ? $"rank {Distributed.Distributed.Rank}/{Distributed.Distributed.WorldSize}: " : "";
}

/// <summary>A start-up disagreement: printed by rank 0 only (the other ranks know it too and stop quietly).</summary>
public sealed class AgreementError(string message) : Exception(message);
