using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kindling.Cli;

/// <summary>Everything that defines a training run; written to config.json so the run can be reproduced or resumed.</summary>
public sealed record TrainConfig
{
    public string Data { get; init; } = "digits";
    public string[] Target { get; init; } = [];
    public string[] Categorical { get; init; } = [];
    public string Missing { get; init; } = "error";
    public string[] Drop { get; init; } = [];
    public string[] Features { get; init; } = [];
    public string? Delimiter { get; init; }
    public string? Comment { get; init; } = "#";
    public int SkipRows { get; init; }
    public string? Test { get; init; }
    public double TestSplit { get; init; } = 0.2;
    public double ValSplit { get; init; } = 0.1;
    public string Task { get; init; } = "auto";
    public string Loss { get; init; } = "auto";
    public int[] Hidden { get; init; } = [128];
    public string Model { get; init; } = "mlp";
    public int[] Conv { get; init; } = [32, 64];
    public string Activation { get; init; } = "relu";
    public double Dropout { get; init; }
    public bool BatchNorm { get; init; }
    public string Optimizer { get; init; } = "adam";
    public double? Lr { get; init; }
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; }
    public double L1 { get; init; }
    public string Scheduler { get; init; } = "none";
    public int BatchSize { get; init; } = 64;
    public int Epochs { get; init; }
    public int EarlyStopping { get; init; }
    public string ClassWeights { get; init; } = "none";
    public double LabelSmoothing { get; init; }
    public string Scale { get; init; } = "standard";
    public ulong Seed { get; init; } = 42;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public string? Init { get; init; }
    public bool Shuffle { get; init; } = true;
    public string? Out { get; init; }
    public bool Overwrite { get; init; }

    // Language models (--data shakespeare|FILE.txt, --model gpt|lstm); null = the model's default (LanguageModelRun.Resolve).
    public int? Steps { get; init; }
    public int? Warmup { get; init; }
    public double? MinLr { get; init; }
    public double? Clip { get; init; }
    public int? EvalEvery { get; init; }
    public int? Layers { get; init; }
    public int? Heads { get; init; }
    public int? Width { get; init; }
    public int? Context { get; init; }
    public string? Tokenizer { get; init; }
    /// <summary>The options given on the command line (so a model's own defaults apply to the others).</summary>
    public string[] Given { get; init; } = [];

    // Resolved at run time and recorded for eval/predict.
    public string? ResolvedTask { get; init; }
    public string? ResolvedLoss { get; init; }
    public string[]? ClassNames { get; init; }
    public string[]? FeatureNames { get; init; }
    public string[]? TargetNames { get; init; }
    public int Outputs { get; init; }
    public string? KindlingVersion { get; init; }
    /// <summary>SHA-256 of the data as loaded (and of the --test file): eval rebuilds "its test split" only from the same data.</summary>
    public string? DataSha256 { get; init; }
    /// <summary>Number of processes that trained the run (mpirun -np); a resume must use the same.</summary>
    public int WorldSize { get; init; } = 1;

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainConfig FromJson(string json) => JsonSerializer.Deserialize<TrainConfig>(json, Json) ?? throw new UserError("config.json is empty.");

    /// <summary>The learning rate, or the optimizer's usual default.</summary>
    public double LearningRate => Lr ?? (Kindling.Registry.Components.Optimizers.TryGet(Optimizer, out var e) ? e.DefaultLr : 1e-3);
}
