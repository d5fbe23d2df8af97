using System.CommandLine;
using System.Globalization;
using Kindling.IO;
using Kindling.Registry;

namespace Kindling.Cli;

/// <summary>The subcommands and their options.</summary>
public static class Cli
{
    private static string Names(IEnumerable<ComponentEntry> entries, string separator) => string.Join(separator, entries.Select(e => e.Name));

    private static Option<T> Opt<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private sealed class TrainOptions
    {
        public readonly Option<string> Data = Opt("--data", $"Dataset: an embedded name ({Names(Components.Datasets.All.Where(d => d.Embedded), ", ")}), {Names(Components.Datasets.All.Where(d => !d.Embedded), ", ")}, a CSV file, or a folder of IDX files.", "digits");
        public readonly Option<string[]> Target = new("--target") { Description = "CSV target column; several (comma-separated or repeated) for multi-label.", AllowMultipleArgumentsPerToken = true };
        public readonly Option<string[]> Categorical = new("--categorical") { Description = "CSV columns to one-hot encode even when they hold numbers (comma-separated or repeated).", AllowMultipleArgumentsPerToken = true };
        public readonly Option<string> Missing = Opt("--missing", "Missing CSV cells: error, mean (most frequent category for text), zero, or drop the row.", "error");
        public readonly Option<string[]> Drop = new("--drop") { Description = "CSV columns to leave out (comma-separated or repeated), e.g. dates or ids.", AllowMultipleArgumentsPerToken = true };
        public readonly Option<string[]> Features = new("--features") { Description = "CSV columns to use as features (default: every column but the target and --drop).", AllowMultipleArgumentsPerToken = true };
        public readonly Option<string> Delimiter = Opt("--delimiter", "CSV field separator: auto (detects , ; tab |), or one character, or tab.", "auto");
        public readonly Option<string> Comment = Opt("--comment", "CSV lines starting with this character are skipped (empty: none).", "#");
        public readonly Option<int> SkipRows = Opt("--skip-rows", "CSV lines to skip before the header.", 0);
        public readonly Option<string?> Test = new("--test") { Description = "A separate test file (default: hold out --test-split of the data)." };
        public readonly Option<double> TestSplit = Opt("--test-split", "Fraction held out for the final test.", 0.2);
        public readonly Option<double> ValSplit = Opt("--val-split", "Fraction of the remaining data for validation (0: none).", 0.1);
        public readonly Option<string> Task = Opt("--task", "auto|classification|binary|multilabel|regression.", "auto");
        public readonly Option<string> Loss = Opt("--loss", $"auto, or a loss: {string.Join(", ", LossChoice.AllNames)}.", "auto");
        public readonly Option<string> Hidden = Opt("--hidden", "Hidden layer sizes, e.g. 256,128 (empty for a linear model).", "128");
        public readonly Option<string> Model = Opt("--model", "mlp, or cnn for image data (conv blocks of --conv, then --hidden Linear layers).", "mlp");
        public readonly Option<string> Conv = Opt("--conv", "CNN channels per 3×3 conv + 2×2 max-pool block, e.g. 32,64 (--model cnn).", "32,64");
        public readonly Option<string> Activation = Opt("--activation", Names(Components.Activations.All, "|") + ".", "relu");
        public readonly Option<double> Dropout = Opt("--dropout", "Dropout probability after each hidden layer.", 0.0);
        public readonly Option<bool> BatchNorm = Opt("--batch-norm", "BatchNorm1d after each hidden Linear.", false);
        public readonly Option<string> Optimizer = Opt("--optimizer", Names(Components.Optimizers.All, "|") + ".", "adam");
        public readonly Option<double?> Lr = new("--lr") { Description = $"Learning rate (default: {string.Join(", ", Components.Optimizers.All.GroupBy(o => o.DefaultLr).Select(g => $"{g.Key.ToString("G", CultureInfo.InvariantCulture)} for {Names(g, "/")}"))})." };
        public readonly Option<double> Momentum = Opt("--momentum", $"Momentum μ ({Names(Components.Optimizers.All.Where(o => o.Options.Any(s => s.Flag == "--momentum")), "/")}).", 0.9);
        public readonly Option<double> WeightDecay = Opt("--weight-decay", "L2 weight decay (AdamW: decoupled, default 1e-2).", 0.0);
        public readonly Option<double> L1 = Opt("--l1", "L1 penalty λ·Σ|w| on the weights, added to the loss.", 0.0);
        public readonly Option<string> Scheduler = Opt("--scheduler", Names(Components.Schedulers.All, "|") + ".", "none");
        public readonly Option<int> BatchSize = Opt("--batch-size", "Mini-batch size.", 64);
        public readonly Option<int> Epochs = Opt("--epochs", "Passes over the training data; 0 = auto: about 4,000 steps (10 to 200 epochs), stopping once the validation loss has not improved for 10 epochs.", 0);
        public readonly Option<int> EarlyStopping = Opt("--early-stopping", "Stop after this many epochs without validation improvement and keep the best weights (0: off).", 0);
        public readonly Option<string> ClassWeights = Opt("--class-weights", "none|balanced|w1,w2,… (classification).", "none");
        public readonly Option<double> LabelSmoothing = Opt("--label-smoothing", "Label smoothing ε for cross_entropy.", 0.0);
        public readonly Option<string> Scale = Opt("--scale", "standard (fit on training data only) or none.", "standard");
        public readonly Option<ulong> Seed = Opt("--seed", "Random seed (splits, initialisation, shuffling, dropout).", 42UL);
        public readonly Option<int> Threads = Opt("--threads", "Threads for the kernels.", Environment.ProcessorCount);
        public readonly Option<string?> Init = new("--init") { Description = "Initial weights with PyTorch state_dict names: a safetensors file, or a torch.save state dict (.pt/.pth)." };
        public readonly Option<bool> Shuffle = Opt("--shuffle", "Shuffle the training data each epoch (true|false).", true);
        public readonly Option<string?> Out = new("--out") { Description = "Run folder (default runs/<timestamp>)." };
        public readonly Option<bool> Overwrite = Opt("--overwrite", "Replace an existing run in --out.", false);
        public readonly Option<string?> Resume = new("--resume") { Description = "Continue the run in this folder from its checkpoint." };
        public readonly Option<int?> Steps = new("--steps") { Description = "Language models: optimizer steps (default 2000)." };
        public readonly Option<int?> Warmup = new("--warmup") { Description = "Language models: linear warm-up steps before the cosine decay (default 100)." };
        public readonly Option<double?> MinLr = new("--min-lr") { Description = "Language models: the learning rate the cosine decay ends at (default --lr / 10)." };
        public readonly Option<double?> Clip = new("--clip") { Description = "Language models: clip the gradient norm to this (default 1.0; 0: off)." };
        public readonly Option<int?> EvalEvery = new("--eval-every") { Description = "Language models: evaluate on the whole validation text every N steps (default min(250, steps/4))." };
        public readonly Option<int?> Layers = new("--layers") { Description = "Language models: transformer blocks (gpt, default 4) or LSTM layers (lstm, default 2)." };
        public readonly Option<int?> Heads = new("--heads") { Description = "Language models: attention heads (gpt, default 4)." };
        public readonly Option<int?> Width = new("--width") { Description = "Language models: embedding width (gpt, default 128) or LSTM size (lstm, default 256)." };
        public readonly Option<int?> Context = new("--context") { Description = "Language models: tokens of context per training block (default 64)." };
        public readonly Option<string?> Tokenizer = new("--tokenizer") { Description = "Language models: char (a character vocabulary fitted on the training text; default) or gpt2 (GPT-2's byte-level BPE)." };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Data, Target, Categorical, Missing, Drop, Features, Delimiter, Comment, SkipRows, Test, TestSplit, ValSplit, Task, Loss, Hidden, Model, Conv, Activation, Dropout, BatchNorm, Optimizer, Lr, Momentum,
                WeightDecay, L1, Scheduler, BatchSize, Epochs, EarlyStopping, ClassWeights, LabelSmoothing, Scale, Seed, Threads, Init, Shuffle, Out, Overwrite, Resume,
                Steps, Warmup, MinLr, Clip, EvalEvery, Layers, Heads, Width, Context, Tokenizer })
                c.Options.Add(o);
        }

        public TrainConfig Config(ParseResult r) => new()
        {
            Data = r.GetValue(Data)!, Target = (r.GetValue(Target) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray(),
            Categorical = (r.GetValue(Categorical) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray(), Missing = r.GetValue(Missing)!,
            Drop = Split(r.GetValue(Drop)), Features = Split(r.GetValue(Features)), Delimiter = r.GetValue(Delimiter), Comment = r.GetValue(Comment), SkipRows = r.GetValue(SkipRows),
            Test = r.GetValue(Test), TestSplit = r.GetValue(TestSplit), ValSplit = r.GetValue(ValSplit), Task = r.GetValue(Task)!, Loss = r.GetValue(Loss)!,
            Hidden = ParseHidden(r.GetValue(Hidden)!), Model = r.GetValue(Model)!.Trim().ToLowerInvariant(), Conv = ParseSizes("--conv", r.GetValue(Conv)!), Activation = r.GetValue(Activation)!, Dropout = r.GetValue(Dropout), BatchNorm = r.GetValue(BatchNorm),
            Optimizer = r.GetValue(Optimizer)!, Lr = r.GetValue(Lr), Momentum = r.GetValue(Momentum), WeightDecay = r.GetValue(WeightDecay), L1 = r.GetValue(L1),
            Scheduler = r.GetValue(Scheduler)!, BatchSize = r.GetValue(BatchSize), Epochs = r.GetValue(Epochs), EarlyStopping = r.GetValue(EarlyStopping),
            ClassWeights = r.GetValue(ClassWeights)!, LabelSmoothing = r.GetValue(LabelSmoothing), Scale = r.GetValue(Scale)!, Seed = r.GetValue(Seed),
            Threads = r.GetValue(Threads), Init = r.GetValue(Init), Shuffle = r.GetValue(Shuffle), Out = r.GetValue(Out), Overwrite = r.GetValue(Overwrite),
            Steps = r.GetValue(Steps), Warmup = r.GetValue(Warmup), MinLr = r.GetValue(MinLr), Clip = r.GetValue(Clip), EvalEvery = r.GetValue(EvalEvery),
            Layers = r.GetValue(Layers), Heads = r.GetValue(Heads), Width = r.GetValue(Width), Context = r.GetValue(Context),
            Tokenizer = r.GetValue(Tokenizer)?.Trim().ToLowerInvariant(),
            Given = r.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>().Where(o => !o.Implicit).Select(o => o.Option.Name).ToArray(),
        };
    }

    private static int[] ParseSizes(string flag, string s) => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(x =>
        int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new UserError($"{flag}: '{x}' is not a channel count (use e.g. 32,64).")).ToArray();
    private static string[] Split(string[]? values) => (values ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    private static int[] ParseHidden(string s) => s.Trim().Length == 0 ? [] : s.Split(',').Select(x =>
        int.TryParse(x.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new UserError($"--hidden: '{x}' is not a layer size (use e.g. 256,128).")).ToArray();

    public static Command TrainCommand()
    {
        var cmd = new Command("train", "Train an MLP on a dataset (default: the embedded digits) and write a run folder with the model, metrics, plots and report.");
        var o = new TrainOptions();
        o.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var resume = r.GetValue(o.Resume);
            TrainConfig c;
            if (resume != null)
            {
                c = RunFolder.ReadConfig(resume) with { Out = resume };
                var epochsResult = r.GetResult(o.Epochs);
                if (epochsResult != null && !epochsResult.Implicit) c = c with { Epochs = r.GetValue(o.Epochs) };
            }
            else c = o.Config(r);
            return Commands.Train(c, resume != null);
        });
        return cmd;
    }

    public static Command CompareCommand()
    {
        var cmd = new Command("compare", "Train the same model under several losses over several seeds, test whether their differences are significant, and draw their curves, calibration and intervals in one report.");
        var o = new TrainOptions();
        o.AddTo(cmd);
        var losses = new Option<string?>("--losses") { Description = "Comma-separated losses (default: cross_entropy,mse for classification; mse,l1,huber for regression; bce_with_logits,mse for binary)." };
        var seeds = Opt("--seeds", "Seeds per loss: each a different initialisation, batch order and dropout (--seed, --seed+1, …); the runs share the cores.", 5);
        var resplit = Opt("--resplit", "Draw a new train/validation/test split for each seed (default: one split, from --seed).", false);
        cmd.Options.Add(losses);
        cmd.Options.Add(seeds);
        cmd.Options.Add(resplit);
        cmd.SetAction(r => Kindling.Cli.CompareCommand.Run(o.Config(r), r.GetValue(losses), r.GetValue(seeds), r.GetValue(resplit)));
        return cmd;
    }

    public static Command EvalCommand()
    {
        var cmd = new Command("eval", "Evaluate a trained run on data (default: the run's own test split).");
        var run = new Argument<string>("run") { Description = "The run folder." };
        var data = new Option<string?>("--data") { Description = "Data to evaluate on (a CSV with the target column, or a dataset name)." };
        cmd.Arguments.Add(run);
        cmd.Options.Add(data);
        cmd.SetAction(r => Commands.Eval(r.GetValue(run)!, r.GetValue(data)));
        return cmd;
    }

    public static Command PredictCommand()
    {
        var cmd = new Command("predict", "Predict with a trained run: classes and per-class probabilities, or values.");
        var run = new Argument<string>("run") { Description = "The run folder." };
        var data = new Option<string>("--data") { Description = "Input CSV with the training feature columns.", Required = true };
        var outFile = new Option<string>("--out") { Description = "Output CSV.", DefaultValueFactory = _ => "predictions.csv" };
        cmd.Arguments.Add(run);
        cmd.Options.Add(data);
        cmd.Options.Add(outFile);
        cmd.SetAction(r => Commands.Predict(r.GetValue(run)!, r.GetValue(data)!, r.GetValue(outFile)!));
        return cmd;
    }
}
