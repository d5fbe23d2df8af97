using Kindling.Data;

namespace Kindling.Cli;

/// <summary>
/// The prepared learning problem: splits, task, names and scaling. Targets are kept in label form: int64 class indices (N)
/// for classification and binary tasks, float32 (N) for regression (standardised when scaling), float32 (N, k) for multi-label.
/// </summary>
public sealed class Problem
{
    public required string Task { get; init; }
    public required Tensor XTrain { get; init; }
    public required Tensor YTrain { get; init; }
    public Tensor? XVal { get; init; }
    public Tensor? YVal { get; init; }
    public required Tensor XTest { get; init; }
    public required Tensor YTest { get; init; }
    public required string[] FeatureNames { get; init; }
    public required string[] TargetNames { get; init; }
    public string[] ClassNames { get; init; } = [];
    public Standardize? Scaler { get; init; }
    /// <summary>Mean and std of a standardised regression target (identity when not scaled).</summary>
    public (double Mean, double Std) TargetScale { get; init; } = (0, 1);
    public required string TaskReason { get; init; }

    public int NumClasses => ClassNames.Length;
    public bool IsClassLike => Task is "classification" or "binary";
}

/// <summary>Loads --data, infers the task, splits and scales.</summary>
public static class ProblemBuilder
{
    public static readonly string[] EmbeddedNames = ["digits", "breast_cancer", "diabetes"];

    /// <summary>Loads a dataset by the --data convention: an embedded name, fashion-mnist, a CSV file, or a folder of IDX files.</summary>
    public static LabeledData Load(string data, string[] targets, string? taskHint, CsvOptions csv)
    {
        var key = data.ToLowerInvariant().Replace('-', '_');
        if (EmbeddedNames.Contains(key)) return Datasets.Load(key);
        if (key is "fashion_mnist" or "fashionmnist") return FashionMnistData(null);
        if (Directory.Exists(data)) return FashionMnistData(data);
        if (File.Exists(data)) return CsvData.Load(data, targets, taskHint, csv);
        throw new UserError($"--data '{data}': not an embedded dataset ({string.Join(", ", EmbeddedNames)}, fashion-mnist), an existing CSV file, or a folder of IDX files.");
    }

    private static LabeledData FashionMnistData(string? folder)
    {
        try
        {
            var train = FashionMnist.Load(folder, train: true);
            return new LabeledData(train.Features.Reshape(train.Count, -1), train.Targets, Enumerable.Range(0, 784).Select(i => $"pixel{i}").ToArray(), ["label"], FashionMnist.ClassNames);
        }
        catch (DataException e) { throw new UserError(e.Message); }
    }

    /// <summary>Infers the task from the targets: the source material's "how to choose" made explicit.</summary>
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
            return k == 2 ? ("binary", "2 distinct labels: binary classification")
                          : ("classification", $"{k} distinct integer labels: multi-class classification");
        }
        return ("regression", "real-valued target: regression");
    }

    public static Problem Build(TrainConfig c)
    {
        var csv = CsvData.Options(c);
        var data = Load(c.Data, c.Target, c.Task, csv);
        if (data.Count == 0) throw new UserError($"--data '{c.Data}': the dataset has no rows.");
        var (task, reason) = InferTask(data, c.Task);
        if (task is "classification" or "binary" && data.Targets.DType != DType.Int64)
            throw new UserError($"--task {task}: the target '{string.Join(",", data.TargetNames)}' holds real values; classification needs labels (use --task regression, or a label column).");
        if (task == "binary" && data.NumClasses is not (0 or 2))
            throw new UserError($"--task binary: the target has {data.NumClasses} classes ({string.Join(", ", data.ClassNames!.Take(10))}); binary needs exactly 2 (use --task classification).");
        if (task == "multilabel" && !data.Targets.ToArray().All(v => v == 0 || v == 1))
            throw new UserError("--task multilabel: every target column must hold only 0 and 1.");
        var classNames = data.ClassNames?.ToArray() ?? (task is "classification" or "binary"
            ? Enumerable.Range(0, (int)data.Targets.ToInt64Array().Max() + 1).Select(i => i.ToString()).ToArray() : []);

        if (c.TestSplit is < 0 or >= 1) throw new UserError($"--test-split must be in [0, 1), got {c.TestSplit}.");
        if (c.ValSplit is < 0 or >= 1) throw new UserError($"--val-split must be in [0, 1), got {c.ValSplit}.");
        var gen = new Generator(c.Seed);
        Tensor x = data.Features, y = data.Targets;
        Tensor xTest, yTest;
        int n = data.Count;
        var perm = Tensor.RandPerm(n, gen).ToInt64Array();
        if (c.Test != null)
        {
            var test = Load(c.Test, c.Target, task, csv);
            xTest = Align(test.FeatureNames, test.Features, data.FeatureNames, c.Test);
            yTest = task is "classification" or "binary" ? MapLabels(test, classNames, c.Test) : test.Targets;
        }
        else
        {
            int nTest = (int)Math.Round(n * c.TestSplit);
            if (nTest == 0) throw new UserError("--test-split 0 needs a --test file to evaluate on.");
            var testIdx = Tensor.FromArray(perm[..nTest]);
            xTest = x.IndexSelect(0, testIdx); yTest = y.IndexSelect(0, testIdx);
            perm = perm[nTest..];
        }
        int nVal = (int)Math.Round(perm.Length * c.ValSplit);
        Tensor? xVal = null, yVal = null;
        if (nVal > 0)
        {
            var vi = Tensor.FromArray(perm[..nVal]);
            xVal = x.IndexSelect(0, vi); yVal = y.IndexSelect(0, vi);
        }
        // Without --shuffle the training rows keep their file order (the splits above still draw their rows at random).
        var trainRows = perm[nVal..];
        if (!c.Shuffle) Array.Sort(trainRows);
        var ti = Tensor.FromArray(trainRows);
        if (ti.NumEl == 0) throw new UserError($"no training rows left after the test and validation splits of {n} rows.");
        var xTrain = x.IndexSelect(0, ti);
        var yTrain = y.IndexSelect(0, ti);
        if (task is "classification" or "binary")
        {
            var seen = yTrain.ToInt64Array().ToHashSet();
            var unseen = yTest.ToInt64Array().Distinct().Where(v => !seen.Contains(v)).ToList();
            if (unseen.Count > 0)
                throw new UserError($"the test set has labels never seen in training: {string.Join(", ", unseen.Select(v => classNames[v]))}. Use more data, a different --seed, or remove those rows.");
        }

        Standardize? scaler = null;
        (double, double) tScale = (0, 1);
        if (c.Scale == "standard")
        {
            scaler = Standardize.Fit(xTrain);
            xTrain = scaler.Transform(xTrain); xTest = scaler.Transform(xTest);
            if (xVal != null) xVal = scaler.Transform(xVal);
            if (task == "regression" && yTrain.Rank == 1)
            {
                var yt = yTrain.ToArray();
                double m = yt.Average(v => (double)v), s = Math.Sqrt(yt.Average(v => (v - m) * (v - m)));
                if (s == 0) s = 1;
                tScale = (m, s);
                yTrain = (yTrain - m) / s;
                if (yVal != null) yVal = (yVal - m) / s;
                yTest = (yTest - m) / s;
            }
        }
        else if (c.Scale != "none") throw new UserError($"--scale '{c.Scale}': use standard or none.");
        return new Problem
        {
            Task = task, TaskReason = reason,
            XTrain = xTrain, YTrain = yTrain, XVal = xVal, YVal = yVal, XTest = xTest, YTest = yTest,
            FeatureNames = data.FeatureNames.ToArray(), TargetNames = data.TargetNames.ToArray(), ClassNames = classNames,
            Scaler = scaler, TargetScale = tScale,
        };
    }

    /// <summary>Reorders another file's feature columns to the training columns (one-hot columns absent from it are zeros).</summary>
    public static Tensor Align(IReadOnlyList<string> names, Tensor features, IReadOnlyList<string> trainNames, string what)
    {
        if (names.SequenceEqual(trainNames)) return features;
        var pos = new Dictionary<string, int>();
        for (int i = 0; i < names.Count; i++) pos[names[i]] = i;
        var cols = new Tensor[trainNames.Count];
        int n = features.Size(0);
        for (int j = 0; j < trainNames.Count; j++)
        {
            if (pos.TryGetValue(trainNames[j], out int i)) cols[j] = features.Narrow(1, i, 1);
            else if (trainNames[j].Contains('=')) cols[j] = Tensor.Zeros(n, 1);
            else throw new UserError($"{what}: column '{trainNames[j]}' used in training is missing (columns: {string.Join(", ", names.Take(20))}).");
        }
        var unseen = names.Where(nm => nm.Contains('=') && !trainNames.Contains(nm)).ToList();
        if (unseen.Count > 0)
            throw new UserError($"{what}: categories never seen in training: {string.Join(", ", unseen.Take(10))}.");
        return Tensor.Cat(cols, 1);
    }

    /// <summary>Maps another file's class labels to the training classes by name.</summary>
    public static Tensor MapLabels(LabeledData d, string[] trainClasses, string what)
    {
        if (d.Targets.DType != DType.Int64) throw new UserError($"{what}: the target holds real values but the model is a classifier.");
        var names = d.ClassNames ?? Enumerable.Range(0, (int)d.Targets.ToInt64Array().Max() + 1).Select(i => i.ToString()).ToList();
        var map = new long[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            int j = Array.IndexOf(trainClasses, names[i]);
            map[i] = j;
        }
        var unseen = d.Targets.ToInt64Array().Distinct().Where(v => map[v] < 0).Select(v => names[(int)v]).ToList();
        if (unseen.Count > 0)
            throw new UserError($"{what}: labels never seen in training: {string.Join(", ", unseen)} (training classes: {string.Join(", ", trainClasses)}).");
        return Tensor.FromArray(d.Targets.ToInt64Array().Select(v => map[v]).ToArray());
    }
}
