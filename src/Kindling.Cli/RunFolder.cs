using System.Globalization;
using System.Text.Json;
using Kindling.Data;
using Kindling.IO;
using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Cli;

/// <summary>A training position restored from checkpoint.safetensors, with the curves cut to agree with it.</summary>
public sealed record Checkpoint(int Epoch, int Batch, long Step, double Best, int Bad, List<EpochRow> Epochs, List<StepRow> Steps, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Everything the command reads back from a run folder goes through here (eval, predict and --resume): config.json,
/// model.safetensors, scaler.safetensors, checkpoint.safetensors and the curve CSVs. A run folder is untrusted input
/// (edited, truncated, from another version, or hostile): every defect becomes one <see cref="UserError"/> naming the
/// file and what is wrong with it, never an exception from deep inside a loader.
/// </summary>
public static class RunFolder
{
    private static readonly string[] Tasks = ["classification", "binary", "multilabel", "regression"];

    private static UserError Bad(string path, string problem) => new($"{path}: {problem}");

    /// <summary>Runs a reader and turns the library's format, argument, I/O and JSON errors into one line about <paramref name="path"/>.</summary>
    public static T Guard<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (UserError) { throw; }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or IOException or UnauthorizedAccessException
                                      or JsonException or InvalidOperationException or OverflowException or DataException or NotSupportedException)
        {
            throw Bad(path, OneLine(e.Message));
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private static void RequireFile(string path, string what)
    {
        if (Directory.Exists(path)) throw Bad(path, $"is a folder, expected the run's {what} file.");
        if (!File.Exists(path)) throw Bad(path, $"missing; the run folder has no {what}.");
    }

    /// <summary>config.json, checked field by field: a config that loads must be able to rebuild the model.</summary>
    public static TrainConfig ReadConfig(string run)
    {
        if (!Directory.Exists(run)) throw new UserError($"'{run}' is not a run folder (no such folder).");
        var path = Path.Combine(run, "config.json");
        if (!File.Exists(path)) throw new UserError($"'{run}' is not a run folder (no config.json).");
        var c = Guard(path, () =>
        {
            if (new FileInfo(path).Length > 64 << 20) throw new FormatException("larger than 64 MB; not a Kindling config.");
            return JsonSerializer.Deserialize<TrainConfig>(File.ReadAllText(path), TrainConfig.Json) ?? throw new FormatException("holds null instead of a config object.");
        });
        if (c.ResolvedTask == "language_model")
        {
            if (c.Data is null || c.Model is not ("gpt" or "lstm") || c.Given is null) throw Bad(path, "a language-model run needs \"data\", \"model\" (gpt or lstm) and \"given\".");
            try { return LanguageModelRun.Resolve(c); }
            catch (UserError e) { throw Bad(path, "holds an invalid setting: " + e.Message); }
        }
        string? problem = null;
        if (c.Data is null || c.Target is null || c.Categorical is null || c.Drop is null || c.Hidden is null || c.Missing is null || c.Optimizer is null
            || c.Activation is null || c.Scheduler is null || c.Task is null || c.Loss is null || c.ClassWeights is null || c.Scale is null)
            problem = "a required field is null.";
        else if (c.ResolvedTask is null || !Tasks.Contains(c.ResolvedTask)) problem = $"\"resolved_task\" is {Show(c.ResolvedTask)}; expected one of {string.Join(", ", Tasks)}.";
        else if (c.FeatureNames is null || c.FeatureNames.Length == 0 || c.FeatureNames.Any(f => f is null)) problem = "\"feature_names\" is missing or empty.";
        else if (c.Outputs <= 0 || c.Outputs > 1_000_000) problem = $"\"outputs\" is {c.Outputs}; expected a positive number of model outputs.";
        else if (c.ResolvedTask is "classification" or "binary" && (c.ClassNames is null || c.ClassNames.Length < 2 || c.ClassNames.Any(n => n is null)
                 || !(c.Outputs == c.ClassNames.Length || c.ResolvedTask == "binary" && c.Outputs == 1)))
            problem = $"\"class_names\" ({c.ClassNames?.Length.ToString(CultureInfo.InvariantCulture) ?? "missing"}) does not fit {c.Outputs} outputs of a {c.ResolvedTask} model.";
        else if (c.ResolvedTask == "multilabel" && (c.TargetNames is null || c.TargetNames.Length != c.Outputs))
            problem = $"\"target_names\" does not name the {c.Outputs} outputs of a multilabel model.";
        if (problem != null) throw Bad(path, problem);
        try
        {
            OptionChecks.Check(c with { Out = null, Init = null });
            OptionChecks.CheckModelSize(c.FeatureNames!.Length, c.Outputs, 1, c);
            ModelFactory.Activation(c.Activation!);
        }
        catch (UserError e) { throw Bad(path, "holds an invalid setting: " + e.Message); }
        return c;
    }

    private static string Show(string? s) => s is null ? "missing" : $"\"{s}\"";

    /// <summary>Builds the run's model from its config and loads model.safetensors into it (names, shapes and finite values checked).</summary>
    public static Sequential ReadModel(string run, TrainConfig c, string file = "model.safetensors")
    {
        if (c.ResolvedTask == "language_model")
            throw new UserError($"'{run}' holds a language model ({c.Model}): continue a text with `kindling generate {run} --prompt ...`; its test figures are in test_metrics.json.");
        var path = Path.Combine(run, file);
        RequireFile(path, file);
        var (model, _) = ModelFactory.Build(c.FeatureNames!.Length, c.Outputs, c);
        Guard(path, () =>
        {
            var f = Safetensors.Load(path);
            CheckFinite(path, f.Tensors);
            model.LoadStateDict(f.Tensors.ToDictionary(kv => kv.Key, kv => ToStateDType(kv.Value)));
            return 0;
        });
        return model;
    }

    private static Tensor ToStateDType(Tensor t) => t.DType == DType.Float64 ? t.To(DType.Float32) : t;

    private static void CheckFinite(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        foreach (var (k, t) in tensors)
            if (t.DType is DType.Float32 or DType.Float64 && t.ToDoubleArray().Any(v => !double.IsFinite(v)))
                throw Bad(path, $"tensor '{k}' holds NaN or infinite values.");
    }

    /// <summary>
    /// scaler.safetensors: what was fitted on the training split — feature fill values and standardisation (each
    /// optional) and the mean and std of every regression target column (0-d in runs made before multi-output scaling).
    /// </summary>
    public static Preprocessing ReadScaler(string run, TrainConfig c)
    {
        var path = Path.Combine(run, "scaler.safetensors");
        RequireFile(path, "scaler.safetensors");
        return Guard(path, () =>
        {
            var s = Safetensors.Load(path).Tensors;
            foreach (var k in s.Keys)
                if (k is not ("features.mean" or "features.std" or "features.fill" or "target.mean" or "target.std")) throw new FormatException($"unexpected tensor '{k}'.");
            if (!s.TryGetValue("target.mean", out var tm) || !s.TryGetValue("target.std", out var ts))
                throw new FormatException("\"target.mean\" or \"target.std\" is missing.");
            int outputs = c.ResolvedTask == "regression" ? Math.Max(1, c.Outputs) : 1;
            if (tm.Rank > 1 || ts.Rank > 1 || tm.NumEl != outputs || ts.NumEl != outputs)
                throw new FormatException($"\"target.mean\" and \"target.std\" must hold {outputs} value{(outputs == 1 ? "" : "s")} (one per target column), got shapes ({string.Join(", ", tm.Shape)}) and ({string.Join(", ", ts.Shape)}).");
            double[] m = tm.ToDoubleArray(), sd = ts.ToDoubleArray();
            for (int i = 0; i < m.Length; i++)
                if (!double.IsFinite(m[i]) || !(sd[i] > 0) || !double.IsFinite(sd[i])) throw new FormatException($"target scaling ({m[i]}, {sd[i]}) must be finite with a positive std.");
            Standardize? scaler = null;
            bool hasMean = s.ContainsKey("features.mean"), hasStd = s.ContainsKey("features.std");
            if (hasMean != hasStd) throw new FormatException("has only one of \"features.mean\" and \"features.std\".");
            if (hasMean)
            {
                scaler = Standardize.FromStateDict(new Dictionary<string, Tensor> { ["mean"] = s["features.mean"], ["std"] = s["features.std"] });
                if (scaler.Features != c.FeatureNames!.Length) throw new FormatException($"scales {scaler.Features} features, but the run has {c.FeatureNames.Length}.");
                if (s["features.mean"].ToDoubleArray().Any(v => !double.IsFinite(v))) throw new FormatException("\"features.mean\" holds NaN or infinite values.");
            }
            else if (c.Scale == "standard") throw new FormatException("the run was trained with --scale standard but the file has no feature scaling.");
            float[]? fill = null;
            if (s.TryGetValue("features.fill", out var fl))
            {
                if (fl.Rank != 1 || fl.NumEl != c.FeatureNames!.Length) throw new FormatException($"\"features.fill\" must hold one value per feature ({c.FeatureNames!.Length}), got shape ({string.Join(", ", fl.Shape)}).");
                fill = fl.ToArray();
                if (fill.Any(v => !float.IsFinite(v))) throw new FormatException("\"features.fill\" holds NaN or infinite values.");
            }
            else if (c.Missing is "mean" or "zero") throw new FormatException($"the run was trained with --missing {c.Missing} but the file has no fill values (features.fill).");
            return new Preprocessing { Scaler = scaler, Fill = fill, TargetMean = m, TargetStd = sd };
        });
    }

    /// <summary>
    /// Restores model and optimizer from checkpoint.safetensors and cuts the curves to its position. Everything is
    /// checked before the position is trusted: the metadata (epoch, batch, step, best, bad) are present, parse and agree
    /// with each other (step = epoch × batches + batch); the optimizer state has exactly the entries this optimizer
    /// keeps; steps.csv and epochs.csv reach the checkpoint (they are written before it, so a crash between the two
    /// leaves them ahead, and the rows after the checkpoint are dropped here).
    /// </summary>
    public static Checkpoint ReadCheckpoint(string dir, TrainConfig c, Module model, Optimizer opt, int batches)
    {
        var path = Path.Combine(dir, "checkpoint.safetensors");
        if (!File.Exists(path)) throw new UserError($"--resume {dir}: no checkpoint.safetensors there.");
        var f = Guard(path, () => Safetensors.Load(path));
        CheckFinite(path, f.Tensors.Where(kv => !kv.Key.EndsWith(".step", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value));
        long Meta(string key, long min, long max)
        {
            if (!f.Metadata.TryGetValue(key, out var s)) throw Bad(path, $"the metadata has no \"{key}\"; the checkpoint is incomplete.");
            if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                throw Bad(path, $"metadata \"{key}\" is '{s}'; expected an integer in [{min}, {max}].");
            return v;
        }
        int epoch = (int)Meta("epoch", 0, c.Epochs);
        int batch = (int)Meta("batch", 0, Math.Max(0, batches - 1));
        long step = Meta("step", 0, long.MaxValue);
        int bad = (int)Meta("bad", 0, int.MaxValue);
        if (!f.Metadata.TryGetValue("best", out var bestText) || !double.TryParse(bestText, NumberStyles.Float, CultureInfo.InvariantCulture, out var best) || double.IsNaN(best))
            throw Bad(path, $"metadata \"best\" is {(bestText is null ? "missing" : $"'{bestText}'")}; expected the best monitored loss so far.");
        if (step != (long)epoch * batches + batch)
            throw Bad(path, $"metadata step {step} does not match epoch {epoch} and batch {batch} at {batches} batches per epoch (expected {(long)epoch * batches + batch}).");
        var modelState = f.Tensors.Where(t => t.Key.StartsWith("model.", StringComparison.Ordinal)).ToDictionary(t => t.Key[6..], t => t.Value);
        var optimState = f.Tensors.Where(t => t.Key.StartsWith("optim.", StringComparison.Ordinal)).ToDictionary(t => t.Key[6..], t => t.Value);
        var other = f.Tensors.Keys.FirstOrDefault(k => !k.StartsWith("model.", StringComparison.Ordinal) && !k.StartsWith("optim.", StringComparison.Ordinal));
        if (other != null) throw Bad(path, $"unexpected tensor '{other}' (entries are model.* and optim.*).");
        var expected = ExpectedOptimizerState(c, model, step > 0);
        var missing = expected.Keys.Where(k => !optimState.ContainsKey(k)).ToList();
        var extra = optimState.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw Bad(path, $"the optimizer state lacks {string.Join(", ", missing.Take(5).Select(k => "optim." + k))}{(missing.Count > 5 ? ", …" : "")}; the checkpoint is incomplete.");
        if (extra.Count > 0) throw Bad(path, $"unexpected optimizer entries {string.Join(", ", extra.Take(5).Select(k => "optim." + k))} for {c.Optimizer}.");
        foreach (var (k, v) in optimState)
        {
            var e = expected[k];
            if (!v.Shape.SequenceEqual(e.Shape)) throw Bad(path, $"optim.{k} has shape ({string.Join(", ", v.Shape)}), expected ({string.Join(", ", e.Shape)}).");
            if (k.EndsWith(".step", StringComparison.Ordinal) && (v.DType != DType.Int64 || v.ToInt64Array()[0] < 0 || v.ToInt64Array()[0] > step))
                throw Bad(path, $"optim.{k} must be an integer step count in [0, {step}].");
            if (k.EndsWith(".lr", StringComparison.Ordinal) && !(v.ItemDouble() >= 0 && double.IsFinite(v.ItemDouble())))
                throw Bad(path, $"optim.{k} is {v.ItemDouble()}; a learning rate must be finite and ≥ 0.");
        }
        Guard(path, () => { model.LoadStateDict(modelState.ToDictionary(kv => kv.Key, kv => ToStateDType(kv.Value))); return 0; });
        Guard(path, () => { opt.LoadStateDict(optimState); return 0; });

        var epochs = ReadEpochs(Path.Combine(dir, "epochs.csv")).Where(e => e.Epoch <= epoch).ToList();
        var steps = ReadSteps(Path.Combine(dir, "steps.csv")).Where(s => s.Step <= step).ToList();
        if (epochs.Count != epoch || epochs.Select((e, i) => e.Epoch != i + 1).Any(b => b))
            throw Bad(Path.Combine(dir, "epochs.csv"), $"has {epochs.Count} rows up to the checkpoint's epoch {epoch}, expected epochs 1..{epoch} in order; the curves cannot continue consistently.");
        if (steps.Count != step || steps.Select((s, i) => s.Step != i + 1).Any(b => b))
            throw Bad(Path.Combine(dir, "steps.csv"), $"has {steps.Count} rows up to the checkpoint's step {step}, expected steps 1..{step} in order; the curves cannot continue consistently.");
        return new Checkpoint(epoch, batch, step, best, bad, epochs, steps, f.Metadata);
    }

    /// <summary>The entries (and shapes) this optimizer's state dict has, found by one step of a throwaway copy on zero input.</summary>
    private static Dictionary<string, Tensor> ExpectedOptimizerState(TrainConfig c, Module model, bool afterSteps)
    {
        var (probe, _) = ModelFactory.Build(c.FeatureNames!.Length, c.Outputs, c);
        var opt = Trainer.MakeOptimizer(c, probe);
        if (afterSteps)
        {
            probe.Eval();
            probe.Call(Tensor.Zeros(2, c.FeatureNames.Length)).Sum().Backward();
            opt.Step();
        }
        return opt.StateDict();
    }

    // ------------------------------------------------------------ creating and locking

    private static readonly List<FileStream> Locks = [];

    /// <summary>
    /// The folder a new run writes: <paramref name="requested"/> (--out) or runs/&lt;prefix&gt;&lt;timestamp&gt;, created and
    /// locked. A default name already taken (two runs started in the same second) gets a suffix -2, -3, … instead of
    /// being shared; an --out folder that another run is writing is refused.
    /// </summary>
    public static string CreateAndLock(string? requested, string prefix = "")
    {
        if (requested != null) { Lock(requested, "--out"); return requested; }
        var stamp = Path.Combine("runs", prefix + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        for (int k = 1; k < 1000; k++)
        {
            var dir = k == 1 ? stamp : $"{stamp}-{k}";
            if (Directory.Exists(dir)) continue;
            try { Directory.CreateDirectory(dir); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserError($"cannot create the run folder '{dir}': {e.Message}"); }
            // Another process may have created the same name between the check and here: whoever holds the lock owns it,
            // and a folder that already holds files belongs to someone else.
            if (TryLock(dir) is { } fs)
            {
                if (Directory.EnumerateFileSystemEntries(dir).All(f => Path.GetFileName(f) == LockName)) { Locks.Add(fs); return dir; }
                fs.Dispose();
            }
        }
        throw new UserError($"could not find a free run folder name next to '{stamp}'; pass --out.");
    }

    private const string LockName = ".lock";

    /// <summary>Releases the run-folder locks this process holds (the OS would at exit; Main calls this when a command ends).</summary>
    public static void ReleaseLocks()
    {
        foreach (var fs in Locks) fs.Dispose();
        Locks.Clear();
    }

    /// <summary>
    /// Holds an exclusive lock on <paramref name="dir"/>/.lock until the process ends (the OS releases it even after
    /// kill -9), so two processes never write one run folder at once.
    /// </summary>
    public static void Lock(string dir, string option)
    {
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { throw new UserError($"{option} '{dir}' is not writable: {e.Message}"); }
        var fs = TryLock(dir) ?? throw new UserError($"{option} '{dir}': another kindling process is writing this run folder (it holds {Path.Combine(dir, LockName)}); wait for it or choose another folder.");
        Locks.Add(fs);
    }

    private static FileStream? TryLock(string dir)
    {
        try
        {
            // FileShare.None is an advisory flock(LOCK_EX) on Unix and a share lock on Windows: a second open fails at once.
            return new FileStream(Path.Combine(dir, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException e) { throw new UserError($"the run folder '{dir}' is not writable: {e.Message}"); }
        catch (IOException) { return null; }
    }

    // ------------------------------------------------------------ curves

    private static IEnumerable<string[]> CsvRows(string path, int fields)
    {
        if (!File.Exists(path)) yield break;
        int line = 1;
        foreach (var l in File.ReadLines(path).Skip(1))
        {
            line++;
            if (l.Length == 0) continue;
            var r = l.Split(',');
            if (r.Length != fields) throw Bad(path, $"line {line} has {r.Length} fields, expected {fields}.");
            yield return r;
        }
    }

    private static double D(string path, string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw Bad(path, $"'{s}' is not a number.");

    private static long L(string path, string s) =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v : throw Bad(path, $"'{s}' is not a non-negative integer.");

    public static List<EpochRow> ReadEpochs(string path) =>
        CsvRows(path, 7).Select(r => new EpochRow((int)Math.Min(L(path, r[0]), int.MaxValue), D(path, r[1]), D(path, r[2]), D(path, r[3]), D(path, r[4]), D(path, r[5]), D(path, r[6]))).ToList();

    public static List<StepRow> ReadSteps(string path) =>
        CsvRows(path, 4).Select(r => new StepRow(L(path, r[0]), (int)Math.Min(L(path, r[1]), int.MaxValue), D(path, r[2]), D(path, r[3]))).ToList();
}
