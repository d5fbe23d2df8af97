using System.Globalization;
using Kindling.Registry;

namespace Kindling.Cli;

/// <summary>
/// Validates option values before any work starts, so a typo ends in one line naming the option, the value and the
/// accepted range rather than a NaN loss, an empty run or an allocation failure many seconds later. Comparisons are
/// written so that NaN fails them (NaN is neither inside nor outside a range).
/// </summary>
public static class OptionChecks
{
    private static string S(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    public static void Check(TrainConfig c)
    {
        if (c.Out != null && string.IsNullOrWhiteSpace(c.Out)) throw new UserError("--out is empty; give a folder name, or leave --out out for runs/<timestamp>.");
        // PyTorch's optimizers accept lr = 0 (a frozen run, useful to measure a loss) and refuse negative or NaN rates.
        if (!(c.LearningRate >= 0 && double.IsFinite(c.LearningRate))) throw new UserError($"--lr must be a finite number ≥ 0, got {S(c.LearningRate)}.");
        // The optimizers' options that have a flag, checked against the registry's ranges (the same for every optimizer).
        foreach (var (flag, spec) in Components.Optimizers.All.SelectMany(o => o.Options).Where(o => o.Flag != null && o.Flag != "--lr").DistinctBy(o => o.Flag).Select(o => (o.Flag!, o)))
        {
            double v = FlagValue(c, flag) ?? throw new InvalidOperationException($"the registry names {flag}, which the command does not have.");
            if (!double.IsFinite(v)) throw new UserError($"{flag} must be a finite number {spec.RangeText()}, got {S(v)}.");
            try { spec.Validate(flag, v); }
            catch (ArgumentException) { throw new UserError($"{flag} must be a finite number {spec.RangeText()}, got {S(v)}."); }
        }
        Optimizer(c); Scheduler(c); ModelFactory.Activation(c.Activation);
        if (!(c.L1 >= 0 && double.IsFinite(c.L1))) throw new UserError($"--l1 must be a finite number ≥ 0, got {S(c.L1)}.");
        if (!(c.LabelSmoothing >= 0 && c.LabelSmoothing <= 1)) throw new UserError($"--label-smoothing must be in [0, 1], got {S(c.LabelSmoothing)}.");
        if (!(c.Dropout >= 0 && c.Dropout < 1)) throw new UserError($"--dropout must be in [0, 1), got {S(c.Dropout)}.");
        if (!(c.TestSplit >= 0 && c.TestSplit < 1)) throw new UserError($"--test-split must be in [0, 1), got {S(c.TestSplit)}.");
        if (!(c.ValSplit >= 0 && c.ValSplit < 1)) throw new UserError($"--val-split must be in [0, 1), got {S(c.ValSplit)}.");
        if (c.BatchSize <= 0) throw new UserError($"--batch-size must be positive, got {c.BatchSize}.");
        if (c.Epochs < 0) throw new UserError($"--epochs must be positive (or 0 for auto), got {c.Epochs}.");
        if (c.Threads <= 0) throw new UserError($"--threads must be positive, got {c.Threads}.");
        if (c.EarlyStopping < 0) throw new UserError($"--early-stopping must be 0 (off) or positive, got {c.EarlyStopping}.");
        if (c.Hidden.Any(h => h <= 0)) throw new UserError($"--hidden: layer sizes must be positive, got {string.Join(",", c.Hidden)}.");
        if (c.Init != null)
        {
            if (Directory.Exists(c.Init)) throw new UserError($"--init {c.Init}: is a folder; give a .safetensors file (a run's model.safetensors, or PyTorch's save_file output).");
            if (!File.Exists(c.Init)) throw new UserError($"--init {c.Init}: no such file.");
            // A FIFO or device reports length 0 (as does an empty file): refused before opening, which could block forever.
            if (new FileInfo(c.Init).Length == 0)
                throw new UserError($"--init {c.Init}: is empty or not a regular file (a pipe or device); give a .safetensors file.");
        }
    }

    /// <summary>The value of an optimizer option's command-line flag.</summary>
    private static double? FlagValue(TrainConfig c, string flag) => flag switch
    {
        "--lr" => c.LearningRate, "--momentum" => c.Momentum, "--weight-decay" => c.WeightDecay, _ => null,
    };

    /// <summary>The --optimizer's registry entry.</summary>
    public static OptimizerEntry Optimizer(TrainConfig c) => Components.Optimizers.TryGet(c.Optimizer, out var e) ? e
        : throw new UserError($"--optimizer '{c.Optimizer}': use {ComponentTable<OptimizerEntry>.OrList(Components.Optimizers.Names)}.");

    /// <summary>The --scheduler's registry entry.</summary>
    public static SchedulerEntry Scheduler(TrainConfig c) => Components.Schedulers.TryGet(c.Scheduler, out var e) ? e
        : throw new UserError($"--scheduler '{c.Scheduler}': use {ComponentTable<SchedulerEntry>.OrList(Components.Schedulers.Names)}.");

    /// <summary>
    /// The optimizer's options set by flags (--lr, --momentum, --weight-decay) where its schema has them. A --weight-decay
    /// left at 0 leaves the optimizer's own default (AdamW's 1e-2); --momentum reaches only the optimizers whose
    /// momentum has that flag (SGD: RMSprop's stays 0).
    /// </summary>
    public static Dictionary<string, object?> OptimizerOptions(TrainConfig c)
    {
        var d = new Dictionary<string, object?>();
        foreach (var o in Optimizer(c).Options)
        {
            if (o.Flag == null || FlagValue(c, o.Flag) is not double v) continue;
            if (o.Flag == "--weight-decay" && v == 0) continue;
            d[o.Name] = v;
        }
        return d;
    }

    /// <summary>Refuses too few rows for the requested splits with a message about the data, not the option.</summary>
    public static void CheckSplits(TrainConfig c, int n)
    {
        if (c.Test != null) return;
        int nTest = (int)Math.Round(n * c.TestSplit);
        if (c.TestSplit == 0) throw new UserError("--test-split 0 needs a --test file to evaluate on.");
        if (nTest == 0 || n - nTest < 1)
            throw new UserError($"--data '{c.Data}' has only {n} row{(n == 1 ? "" : "s")}: too few to hold out a test set and still train (--test-split {S(c.TestSplit)} of {n} rounds to {nTest}). Use more data, or give a separate --test file.");
    }

    /// <summary>
    /// Estimates the memory of the MLP before building it: parameters, their gradients, up to two optimizer moments
    /// and a checkpoint copy (5 float32 per parameter), plus a batch of activations forward and backward. Refuses
    /// a model that cannot be allocated (a layer over Array.MaxLength elements) or needs more than the memory available.
    /// </summary>
    public static void CheckModelSize(int inputs, int outputs, int rows, TrainConfig c)
    {
        if (c.Model == "cnn") { CheckCnnSize(inputs, outputs, rows, c); return; }
        long parameters = 0, widest = 0, acts = 0;
        int prev = inputs;
        foreach (var h in c.Hidden.Append(outputs))
        {
            long w = (long)prev * h;
            widest = Math.Max(widest, w);
            parameters += w + h;
            acts += h;
            prev = h;
        }
        long batch = Math.Min(c.BatchSize, Math.Max(rows, 1));
        double bytes = parameters * 4.0 * 5 + batch * (double)acts * 4 * 4 + Math.Min(rows, 1024) * (double)acts * 4;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        string layers = string.Join(",", c.Hidden);
        if (widest > Array.MaxLength)
            throw new UserError($"--hidden {layers}: one layer would hold {widest:N0} weights, more than one array can ({Array.MaxLength:N0}); the model needs about {Gb(bytes)} of memory. Use smaller layers.");
        if (bytes > available * 0.8)
            throw new UserError($"--hidden {layers}: the model has {parameters:N0} parameters and needs about {Gb(bytes)} of memory for weights, gradients, optimizer state and activations, but {Gb(available)} is available. Use smaller layers (or a smaller --batch-size).");
    }

    /// <summary>
    /// The CNN's estimate, in doubles so that no channel count can overflow it: per parameter 5 float32 as for the MLP;
    /// per row of a batch, each block's conv output, batch-norm and activation outputs and their gradients (6 maps of
    /// oc×h×w) and its im2col matrix (ic·9×h×w), then the Linear layers. Refuses a conv weight over Array.MaxLength
    /// elements or a total over 80% of the memory available, before any layer is allocated.
    /// </summary>
    private static void CheckCnnSize(int inputs, int outputs, int rows, TrainConfig c)
    {
        if (c.Conv.Length == 0 || c.Conv.Any(ch => ch <= 0)) throw new UserError($"--conv: channel counts must be positive, e.g. 32,64; got '{string.Join(",", c.Conv)}'.");
        var (ch, h, w) = CnnModel.ImageShape(inputs);
        double parameters = 0, widest = 0, perRow = 0, widestCols = 0;
        double ic = ch;
        foreach (var oc in c.Conv)
        {
            double weights = ic * oc * 9;
            widest = Math.Max(widest, weights);
            parameters += weights + oc + (c.BatchNorm ? 2.0 * oc : 0);
            perRow += 6.0 * oc * h * w;
            widestCols = Math.Max(widestCols, ic * 9 * h * w);
            if (h >= 2 && w >= 2) { h /= 2; w /= 2; }
            ic = oc;
        }
        double prev = ic * h * w;
        foreach (var hid in c.Hidden.Append(outputs))
        {
            widest = Math.Max(widest, prev * hid);
            parameters += prev * hid + hid;
            perRow += 4.0 * hid;
            prev = hid;
        }
        double batch = Math.Min(c.BatchSize, Math.Max(rows, 1));
        double bytes = parameters * 4 * 5 + batch * (perRow + widestCols) * 4;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        string conv = string.Join(",", c.Conv);
        if (widest > Array.MaxLength)
            throw new UserError($"--conv {conv}: one layer would hold {widest:N0} weights, more than one array can ({Array.MaxLength:N0}); the model needs about {Gb(bytes)} of memory. Use fewer channels (e.g. --conv 32,64).");
        if (bytes > available * 0.8)
            throw new UserError($"--conv {conv} (--hidden {string.Join(",", c.Hidden)}, --batch-size {c.BatchSize}): the CNN has {parameters:N0} parameters and needs about {Gb(bytes)} of memory for weights, gradients, optimizer state and a batch of feature maps, but {Gb(available)} is available. Use fewer channels or a smaller --batch-size.");
    }

    private static string Gb(double bytes) => bytes >= 1e9 ? $"{bytes / 1e9:F1} GB" : $"{bytes / 1e6:F0} MB";
}
