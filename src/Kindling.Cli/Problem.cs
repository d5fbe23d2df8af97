using Kindling.Data;

namespace Kindling.Cli;

/// <summary>
/// The prepared learning problem: splits, task, names and scaling. Each split is a <see cref="RowSet"/>: a view of the
/// one loaded copy of the features (row indices, the training split's fill and scaling applied per batch) with its own
/// targets. Targets are kept in label form: int64 class indices (N) for classification and binary tasks, float32 (N)
/// for regression (standardised when scaling), float32 (N, k) for multi-label.
/// </summary>
public sealed class Problem
{
    public required string Task { get; init; }
    public required RowSet XTrain { get; init; }
    public Tensor YTrain => XTrain.Targets;
    public RowSet? XVal { get; init; }
    public Tensor? YVal => XVal?.Targets;
    public required RowSet XTest { get; init; }
    public Tensor YTest => XTest.Targets;
    public required string[] FeatureNames { get; init; }
    public required string[] TargetNames { get; init; }
    public string[] ClassNames { get; init; } = [];
    /// <summary>What was fitted on the training split (fill values, feature scaler, target scaling).</summary>
    public Preprocessing Prep { get; init; } = new();
    public required string TaskReason { get; init; }
    /// <summary>Where the test rows came from, for the console and the report.</summary>
    public string TestSource { get; init; } = "";
    /// <summary>Facts about the data preparation the user should see (rows dropped, categories unseen in training).</summary>
    public List<string> Notes { get; init; } = [];
    public List<string> Warnings { get; init; } = [];
    /// <summary>SHA-256 of the loaded data (and --test file), recorded in config.json; see <see cref="DataFingerprint"/>.</summary>
    public string? DataSha256 { get; init; }
    /// <summary>A regression target of non-negative whole numbers (counts), for which Poisson regression is worth offering.</summary>
    public bool Counts { get; init; }

    public int NumClasses => ClassNames.Length;
    public bool IsClassLike => Task is "classification" or "binary";
}

/// <summary>A loaded dataset and, when the dataset has one, its official test split.</summary>
/// <param name="RawColumns">A CSV file's own column names (one-hot columns are <c>name=value</c> of these); null for sources with fixed features.</param>
public sealed record Source(LabeledData Data, LabeledData? OfficialTest, string? Note = null, IReadOnlyCollection<string>? RawColumns = null, IReadOnlyList<string>? Warnings = null, IReadOnlyList<string>? Notes = null);

/// <summary>Loads --data, infers the task, splits and scales.</summary>
public static class ProblemBuilder
{
    public static readonly string[] EmbeddedNames = Kindling.Registry.Components.Datasets.All.Where(d => d.Embedded).Select(d => d.Name).ToArray();

    /// <summary>Loads a dataset by the --data convention: an embedded name, fashion-mnist, a CSV file, or a folder of IDX files.</summary>
    public static LabeledData Load(string data, string[] targets, string? taskHint, CsvOptions csv) => LoadSource(data, targets, taskHint, csv, null).Data;

    /// <summary>
    /// Like <see cref="Load"/>, with the official test split of datasets that have one (Fashion-MNIST, an IDX folder
    /// with t10k files). <paramref name="asTest"/>: the folder is read for its test split.
    /// </summary>
    public static Source LoadSource(string data, string[] targets, string? taskHint, CsvOptions csv, TrainConfig? c, bool asTest = false)
    {
        var key = data.ToLowerInvariant().Replace('-', '_');
        if (Kindling.Registry.Components.Datasets.TryGet(key, out var named))
            return named.Embedded ? new Source(named.Load(true), null) : FashionMnistSource(null, asTest);
        if (Directory.Exists(data)) return FashionMnistSource(data, asTest);
        if (File.Exists(data)) return CsvData.LoadSource(data, targets, taskHint, csv, c);
        throw new UserError($"--data '{data}': not an embedded dataset ({string.Join(", ", Kindling.Registry.Components.Datasets.Names)}), an existing CSV file, or a folder of IDX files.");
    }

    private static Source FashionMnistSource(string? folder, bool asTest)
    {
        try
        {
            bool hasTest = FashionMnist.IsAvailable(folder, train: false);
            if (asTest) return new Source(Flat(FashionMnist.LoadBytes(folder, train: !hasTest)), null);
            var train = Flat(FashionMnist.LoadBytes(folder, train: true));
            return new Source(train, hasTest ? Flat(FashionMnist.LoadBytes(folder, train: false)) : null);
        }
        catch (DataException e) { throw new UserError(e.Message); }
    }

    // The images stay bytes (47 MB for the training split, not 188 MB of float32): RowSet converts each batch (/ 255).
    private static LabeledData Flat(TensorDataset d) =>
        new(d.Features.Reshape(d.Count, -1), d.Targets, Enumerable.Range(0, d.Count == 0 ? 0 : d.Features.NumEl / d.Count).Select(i => $"pixel{i}").ToArray(), ["label"], FashionMnist.ClassNames)
        { FeatureDivisor = d.FeatureDivisor };

    /// <summary>
    /// A dataset of the rows of <paramref name="x"/> (features only: a <see cref="RowSet"/> carries its split's targets),
    /// keeping uint8 pixels as bytes to be divided by <paramref name="divisor"/>.
    /// </summary>
    public static TensorDataset Rows(Tensor x, float divisor) =>
        new(x, Tensor.Zeros(x.Size(0))) { FeatureDivisor = x.DType == DType.UInt8 ? divisor : 1f };

    /// <summary>
    /// Infers the task from the targets: the source material's "how to choose" made explicit. Rule for integer targets
    /// (see <see cref="CsvData"/>): whole numbers with at most max(2, min(50, N/5)) distinct values are class labels;
    /// more distinct values, or any fraction, make a numeric (regression) target; <c>--task</c> overrides.
    /// </summary>
    public static (string Task, string Reason) InferTask(LabeledData d, string requested)
    {
        var t = d.Targets;
        if (requested != "auto")
        {
            if (requested is not ("classification" or "binary" or "multilabel" or "regression"))
                throw new UserError($"--task '{requested}': use auto, classification, binary, multilabel or regression.");
            return (requested, $"--task {requested} was given");
        }
        if (t.Rank == 2 && t.Size(1) > 1)
        {
            bool zeroOne = t.ToArray().All(v => v == 0 || v == 1);
            return zeroOne ? ("multilabel", $"{t.Size(1)} target columns of 0/1 values: multi-label")
                           : ("regression", $"{t.Size(1)} real-valued target columns: multi-output regression");
        }
        if (t.DType == DType.Int64)
        {
            int k = d.NumClasses > 0 ? d.NumClasses : (int)t.ToInt64Array().Distinct().Count();
            bool text = d.ClassNames != null && d.ClassNames.Any(n => !double.TryParse(n, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _));
            string what = text ? "text labels" : "integer labels";
            string rule = text ? "" : " (whole numbers with few distinct values are classes; --task regression treats them as numbers)";
            return k == 2 ? ("binary", $"2 distinct {what}: binary classification{rule}")
                          : ("classification", $"{k} distinct {what}: multi-class classification{rule}");
        }
        return ("regression", "real-valued target: regression");
    }

    public static Problem Build(TrainConfig c)
    {
        var csv = CsvData.Options(c);
        var src = LoadSource(c.Data, c.Target, c.Task, csv, c);
        var data = src.Data;
        if (data.Count == 0) throw new UserError($"--data '{c.Data}': the dataset has no rows.");
        OptionChecks.CheckSplits(c, data.Count);
        var (task, reason) = InferTask(data, c.Task);
        if (task is "classification" or "binary" && data.Targets.DType != DType.Int64)
            throw new UserError($"--task {task}: the target '{string.Join(",", data.TargetNames)}' holds real values; classification needs labels (use --task regression, or a label column).");
        if (task == "binary" && data.NumClasses is not (0 or 2))
            throw new UserError($"--task binary: the target has {data.NumClasses} classes ({string.Join(", ", data.ClassNames!.Take(10))}); binary needs exactly 2 (use --task classification).");
        if (task == "multilabel" && !data.Targets.ToArray().All(v => v == 0 || v == 1))
            throw new UserError("--task multilabel: every target column must hold only 0 and 1.");
        var classNames = data.ClassNames?.ToArray() ?? (task is "classification" or "binary"
            ? Enumerable.Range(0, (int)data.Targets.ToInt64Array().Max() + 1).Select(i => i.ToString()).ToArray() : []);
        if (task is "classification" or "binary" && classNames.Length < 2)
            throw new UserError($"--data '{c.Data}': the target '{string.Join(",", data.TargetNames)}' has a single class ({string.Join("", classNames)}) in all {data.Count} rows; a classifier needs at least two (check --target and --missing drop).");
        LabeledData? testData = null;

        if (!(c.TestSplit is >= 0 and < 1)) throw new UserError($"--test-split must be in [0, 1), got {c.TestSplit}.");
        if (!(c.ValSplit is >= 0 and < 1)) throw new UserError($"--val-split must be in [0, 1), got {c.ValSplit}.");
        var notes = new List<string>();
        var warnings = new List<string>();
        if (src.Note != null) notes.Add(src.Note);
        foreach (var w in src.Warnings ?? []) warnings.Add(w);
        foreach (var note in src.Notes ?? []) notes.Add(note);
        var gen = new Generator(c.Seed);
        // The one copy of the features: every split below is a view of it (rows, columns), prepared batch by batch.
        var all = data.ToDataset();
        Tensor y = data.Targets;
        RowSet xTest;
        Tensor yTest;
        int n = data.Count;
        var perm = Array.ConvertAll(Tensor.RandPerm(n, gen).ToInt64Array(), v => (int)v);
        string testSource;
        if (c.Test != null)
        {
            var testSrc = LoadSource(c.Test, c.Target, task, csv, c, asTest: true);
            var test = testData = testSrc.Data;
            foreach (var w in testSrc.Warnings ?? []) warnings.Add(w);
            var tx = FeatureCheck.Align(test.FeatureNames, test.Features, data.FeatureNames, "--test " + c.Test, warnings, test.FeatureDivisor, testSrc.RawColumns, c.Missing is "mean" or "zero");
            yTest = task is "classification" or "binary" ? MapLabels(test, classNames, c.Test) : test.Targets;
            xTest = new RowSet(Rows(tx, test.FeatureDivisor), null, null, yTest, null, "test data");
            CheckOverlap(all, xTest, "--test " + c.Test, warnings);
            testSource = $"--test {c.Test}";
        }
        else if (src.OfficialTest != null)
        {
            var ot = src.OfficialTest;
            var tx = FeatureCheck.Align(ot.FeatureNames, ot.Features, data.FeatureNames, c.Data + " (its test files)", warnings, ot.FeatureDivisor, null);
            yTest = task is "classification" or "binary" ? MapLabels(ot, classNames, c.Data) : ot.Targets;
            xTest = new RowSet(Rows(tx, ot.FeatureDivisor), null, null, yTest, null, "test data");
            // The official test split gets the check a --test file gets: t10k files copied from the training files are refused.
            CheckOverlap(all, xTest, c.Data + " (its t10k test files)", warnings, "the t10k files");
            testSource = $"the official {xTest.Size(0)}-row test set";
        }
        else
        {
            int nTest = (int)Math.Round(n * c.TestSplit);
            if (nTest == 0)
                throw new UserError(c.TestSplit == 0 ? "--test-split 0 needs a --test file to evaluate on."
                    : $"the data has only {n} row{(n == 1 ? "" : "s")}: too few to hold out a test split ({c.TestSplit:G3} of {n} rounds to 0); use more data or give a separate --test file.");
            var testRows = perm[..nTest];
            yTest = y.IndexSelect(0, Index(testRows));
            xTest = new RowSet(all, testRows, null, yTest, null, "test data");
            perm = perm[nTest..];
            testSource = $"held out at random: --test-split {c.TestSplit:G3}, --seed {c.Seed}";
        }
        int nVal = (int)Math.Round(perm.Length * c.ValSplit);
        RowSet? xVal = null;
        if (nVal > 0 && nVal < perm.Length)
        {
            var valRows = perm[..nVal];
            xVal = new RowSet(all, valRows, null, y.IndexSelect(0, Index(valRows)), null, "validation data");
        }
        else nVal = 0;
        // Without shuffling nothing is permuted: training keeps the file order (--shuffle false).
        var trainRows = perm[nVal..];
        if (!c.Shuffle) Array.Sort(trainRows);
        if (trainRows.Length == 0) throw new UserError($"no training rows left after the test and validation splits of {n} rows.");
        var xTrain = new RowSet(all, trainRows, null, y.IndexSelect(0, Index(trainRows)), null, "training data");
        var yTrain = xTrain.Targets;
        if (task is "classification" or "binary")
        {
            var seen = yTrain.ToInt64Array().ToHashSet();
            var unseen = yTest.ToInt64Array().Distinct().Where(v => !seen.Contains(v)).ToList();
            if (unseen.Count > 0)
                throw new UserError($"the test set has labels never seen in training: {string.Join(", ", unseen.Select(v => classNames[v]))}. Use more data, a different --seed, or remove those rows.");
            if (seen.Count < 2)
                throw new UserError($"the training split has a single class ('{classNames[seen.First()]}'); a classifier needs at least two. Check --target, or use more data.");
        }

        // The category vocabulary is the training split's: categories seen only in validation or test rows get no
        // column of their own (those rows' indicators are all 0, as scikit-learn's OneHotEncoder(handle_unknown="ignore")).
        var names = data.FeatureNames.ToArray();
        var keepCols = TrainingVocabulary(xTrain, names, src.RawColumns, notes);
        if (keepCols != null)
        {
            xTrain = xTrain.SelectColumns(keepCols); xTest = xTest.SelectColumns(keepCols);
            xVal = xVal?.SelectColumns(keepCols);
            names = keepCols.Select(i => names[i]).ToArray();
        }

        // Every statistic is fitted on the training rows, streamed one row at a time (no copy of the split).
        var fill = Preprocessing.FitFill(xTrain, names, c.Missing.ToLowerInvariant(), src.RawColumns);
        Standardize? scaler = null;
        double[] tMean = [0], tStd = [1];
        if (c.Scale == "standard")
        {
            scaler = Standardize.Fit(xTrain.With(fill != null ? new Preprocessing { Fill = fill } : null));
            // Every regression target column is standardised with training statistics, and metrics are reported
            // back in the original units (a 3-output target left unscaled trains far worse than one scaled).
            // Poisson regression models raw counts through a log-rate output, so its targets stay in counts.
            if (task == "regression" && !LossChoice.IsPoisson(c.Loss)) (tMean, tStd) = Preprocessing.FitTarget(yTrain);
        }
        else if (c.Scale != "none") throw new UserError($"--scale '{c.Scale}': use standard or none.");
        if (task == "regression" && tMean.Length == 1 && yTrain.Rank == 2) (tMean, tStd) = (new double[yTrain.Size(1)], Enumerable.Repeat(1.0, yTrain.Size(1)).ToArray());
        var prep = new Preprocessing { Fill = fill, Scaler = scaler, TargetMean = tMean, TargetStd = tStd };
        bool scaleY = task == "regression";
        xTrain = xTrain.With(prep, scaleY ? prep.ScaleTarget(xTrain.Targets) : null);
        xTest = xTest.With(prep, scaleY ? prep.ScaleTarget(xTest.Targets) : null);
        xVal = xVal?.With(prep, scaleY ? prep.ScaleTarget(xVal.Targets) : null);
        return new Problem
        {
            Task = task, TaskReason = reason,
            XTrain = xTrain, XVal = xVal, XTest = xTest,
            FeatureNames = names, TargetNames = data.TargetNames.ToArray(), ClassNames = classNames,
            Prep = prep, TestSource = testSource, Notes = notes, Warnings = warnings, DataSha256 = DataFingerprint.Of(data, testData ?? src.OfficialTest),
            Counts = task == "regression" && CsvData.LooksLikeCounts(data.Targets) && data.Targets.ToArray().Distinct().Count() > 2,
        };
    }

    /// <summary>Indices of the columns to keep, or null when every one-hot column occurs in the training rows.</summary>
    private static int[]? TrainingVocabulary(RowSet xTrain, string[] names, IReadOnlyCollection<string>? raw, List<string> notes)
    {
        // Only one-hot columns (name=value of a file column, not a numeric column whose own name holds '=') can be unused categories.
        bool OneHot(string nm) => raw != null && !raw.Contains(nm) && raw.Any(r => nm.StartsWith(r + "=", StringComparison.Ordinal));
        if (!names.Any(OneHot)) return null;
        int f = xTrain.Size(1);
        var any = new bool[f];
        foreach (var row in xTrain.RawRows())
            for (int j = 0; j < f; j++) any[j] |= row[j] == 1;
        var unused = Enumerable.Range(0, f).Where(j => OneHot(names[j]) && !any[j]).ToList();
        if (unused.Count == 0) return null;
        notes.Add($"{unused.Count} categor{(unused.Count == 1 ? "y occurs" : "ies occur")} only outside the training split and {(unused.Count == 1 ? "is" : "are")} encoded as unknown (all indicators 0): {string.Join(", ", unused.Take(8).Select(j => names[j]))}{(unused.Count > 8 ? ", …" : "")}");
        return Enumerable.Range(0, f).Except(unused).ToArray();
    }

    /// <summary>
    /// Refuses a --test file that is (mostly) the training data and warns when some of its rows duplicate training
    /// rows: either way the test metrics would not measure generalisation.
    /// </summary>
    private static void CheckOverlap(Dataset xTrain, Dataset xTest, string what, List<string> warnings, string fix = "Point --test at held-out data")
    {
        var seen = new HashSet<ulong>();
        foreach (var h in RowHashes(xTrain)) seen.Add(h);
        var test = RowHashes(xTest);
        int dup = test.Count(seen.Contains);
        if (dup == 0) return;
        if (dup * 2 >= test.Length)
            throw new UserError($"{what}: {dup} of its {test.Length} rows are also in the training data — it is (part of) the training set, so its metrics would not measure generalisation. {(fix == "Point --test at held-out data" ? fix : $"Replace {fix} with held-out data")}{(test.Length == dup ? "" : ", or remove the duplicated rows")}.");
        warnings.Add($"{what}: {dup} of its {test.Length} rows also occur in the training data; the test metrics are optimistic for those rows.");
    }

    /// <summary>A hash of each row's feature values, read one row at a time.</summary>
    private static ulong[] RowHashes(Dataset x)
    {
        int n = x.Count, f = x.FeatureSize;
        var row = new float[f];
        var h = new ulong[n];
        for (int r = 0; r < n; r++)
        {
            x.CopyFeatures(r, row);
            ulong a = 1469598103934665603UL;
            for (int j = 0; j < f; j++) { float v = row[j]; a = (a ^ (uint)BitConverter.SingleToInt32Bits(float.IsNaN(v) ? float.NaN : v + 0f)) * 1099511628211UL; }
            h[r] = a;
        }
        return h;
    }

    private static Tensor Index(int[] rows) => Tensor.FromArray(Array.ConvertAll(rows, v => (long)v));

    /// <summary>Maps another file's class labels to the training classes by name.</summary>
    public static Tensor MapLabels(LabeledData d, string[] trainClasses, string what)
    {
        if (d.Targets.DType != DType.Int64) throw new UserError($"{what}: the target holds real values but the model is a classifier.");
        var names = d.ClassNames ?? Enumerable.Range(0, (int)d.Targets.ToInt64Array().Max() + 1).Select(i => i.ToString()).ToList();
        var map = new long[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            int j = Array.IndexOf(trainClasses, names[i]);
            // A spelling of a training class that differs only by case or spaces (the training may have merged them).
            if (j < 0) j = Array.FindIndex(trainClasses, k => LabelSpelling.Key(k) == LabelSpelling.Key(names[i]));
            map[i] = j;
        }
        var unseen = d.Targets.ToInt64Array().Distinct().Where(v => map[v] < 0).Select(v => names[(int)v]).ToList();
        if (unseen.Count > 0)
            throw new UserError($"{what}: labels never seen in training: {string.Join(", ", unseen)} (training classes: {string.Join(", ", trainClasses)}).");
        return Tensor.FromArray(d.Targets.ToInt64Array().Select(v => map[v]).ToArray());
    }
}
