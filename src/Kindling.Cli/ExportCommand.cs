using System.CommandLine;
using System.Text.Json;
using Kindling.Data;
using Kindling.IO;

namespace Kindling.Cli;

/// <summary><c>kindling export RUN --onnx model.onnx</c>: the run's model as ONNX, taking raw features like <c>kindling predict</c>.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var cmd = new Command("export", "Export a trained run's model to ONNX (opset 17, dynamic batch), with the run's feature scaling folded in so it takes raw features.");
        var run = new Argument<string>("run") { Description = "The run folder." };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write.", Required = true };
        var probs = new Option<bool>("--probabilities") { Description = "Classifiers: add a second output 'probabilities' (softmax, or sigmoid for binary and multi-label) (true|false).", DefaultValueFactory = _ => true };
        cmd.Arguments.Add(run);
        cmd.Options.Add(onnx);
        cmd.Options.Add(probs);
        cmd.SetAction(r => Export(r.GetValue(run)!, r.GetValue(onnx)!, r.GetValue(probs)));
        return cmd;
    }

    public static int Export(string run, string onnxPath, bool probabilities)
    {
        OutputFile.Check(onnxPath, "--onnx", [("RUN", run)]);
        var (c, model, scaler, target) = Load(run);
        var options = new OnnxExportOptions
        {
            InputScaler = scaler,
            Probabilities = !probabilities ? OnnxProbabilities.None : c.ResolvedTask switch
            {
                "classification" => OnnxProbabilities.Softmax,
                "binary" or "multilabel" => OnnxProbabilities.Sigmoid,
                _ => OnnxProbabilities.None,
            },
            // Regression models are trained on standardized targets; predict maps them back, and so does the graph.
            OutputAffine = c.ResolvedTask == "regression" && target != (1, 0) ? target : null,
            Description = $"Kindling run {Path.GetFullPath(run)}: task {c.ResolvedTask}, features [{string.Join(", ", c.FeatureNames!)}]"
                + (c.ClassNames is { Length: > 0 } k ? $", classes [{string.Join(", ", k)}]" : ""),
        };
        byte[] bytes;
        try { bytes = Onnx.ExportToBytes(model, [1, c.FeatureNames!.Length], options); }
        catch (NotSupportedException e) { throw new UserError($"run '{run}' cannot be exported to ONNX yet: {e.Message}"); }
        var how = OutputFile.Write(onnxPath, "--onnx", bytes);
        var outputs = options.Probabilities == OnnxProbabilities.None ? "output" : "output, probabilities";
        // A CNN run takes the flat pixels too: its graph starts with the Unflatten to (C, H, W).
        var image = c.Model == "cnn" && CnnModel.ImageShape(c.FeatureNames!.Length) is var (ch, h, w) ? $" (flattened {ch}×{h}×{w} images)" : "";
        (how == OutputFile.Outcome.Stdout ? Console.Error : Console.Out).WriteLine($"wrote {OutputFile.Describe(how, onnxPath)}: input 'input' (batch, {c.FeatureNames!.Length}) raw features{image}; outputs {outputs}");
        return 0;
    }

    /// <summary>Reads a run folder, turning every way it can be missing or damaged into one user-facing line.</summary>
    private static (TrainConfig Config, NN.Sequential Model, Standardize? Scaler, (double Scale, double Shift) Target) Load(string run)
    {
        if (!Directory.Exists(run)) throw new UserError($"run folder '{run}' does not exist.");
        var cfgPath = Path.Combine(run, "config.json");
        if (!File.Exists(cfgPath)) throw new UserError($"'{run}' is not a run folder (no config.json).");
        TrainConfig c;
        try { c = TrainConfig.FromJson(File.ReadAllText(cfgPath)); }
        catch (JsonException e) { throw new UserError($"'{cfgPath}' is damaged: {e.Message}"); }
        if (c.ResolvedTask == null || c.FeatureNames is not { Length: > 0 } || c.Outputs <= 0)
            throw new UserError($"'{cfgPath}' does not describe a finished training run (no resolved task, feature names or output count); train it again.");
        // The model's memory estimate before it is built (a config edited to conv [2000000000] must not be allocated).
        try { OptionChecks.CheckModelSize(c.FeatureNames.Length, c.Outputs, 1, c); }
        catch (UserError e) { throw new UserError($"'{cfgPath}' holds an invalid setting: {e.Message}"); }
        try
        {
            var (model, _) = ModelFactory.Build(c.FeatureNames.Length, c.Outputs, c);
            Safetensors.LoadModule(Path.Combine(run, "model.safetensors"), model);
            var s = Safetensors.Load(Path.Combine(run, "scaler.safetensors")).Tensors;
            Standardize? scaler = s.TryGetValue("features.mean", out var mean) && s.TryGetValue("features.std", out var std)
                ? Standardize.FromStateDict(new Dictionary<string, Tensor> { ["mean"] = mean, ["std"] = std })
                : null;
            (double, double) target = s.TryGetValue("target.mean", out var tm) && s.TryGetValue("target.std", out var ts) ? (ts.ItemDouble(), tm.ItemDouble()) : (1, 0);
            return (c, model, scaler, target);
        }
        catch (Exception e) when (e is IOException or FormatException or ArgumentException or InvalidOperationException)
        {
            throw new UserError($"run folder '{run}' is damaged or incomplete: {e.Message}");
        }
    }
}
