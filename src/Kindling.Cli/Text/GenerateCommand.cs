using System.CommandLine;
using Kindling.Data;
using Kindling.IO;
using Kindling.NN;

namespace Kindling.Cli;

/// <summary><c>kindling generate RUN --prompt TEXT --length N --temperature T --top-k K --seed S</c>: continue a text with a trained language model.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var cmd = new Command("generate", "Continue a text with a trained language model (a run of train --model gpt|lstm): deterministic for a seed, with the model's key/value cache or recurrent state.");
        var run = new Argument<string>("run") { Description = "The run folder." };
        var prompt = new Option<string>("--prompt") { Description = "The text to continue (default: a newline).", DefaultValueFactory = _ => "\n" };
        var length = new Option<int>("--length") { Description = "Tokens (characters, for a character model) to generate.", DefaultValueFactory = _ => 500 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (> 0; lower is more conservative).", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int?>("--top-k") { Description = "Sample only among the K most likely tokens (default: all)." };
        var seed = new Option<ulong>("--seed") { Description = "Random seed: the same seed gives the same text.", DefaultValueFactory = _ => 42UL };
        cmd.Arguments.Add(run);
        foreach (var o in new Option[] { prompt, length, temperature, topK, seed }) cmd.Options.Add(o);
        cmd.SetAction(r => Generate(r.GetValue(run)!, r.GetValue(prompt)!, r.GetValue(length), r.GetValue(temperature), r.GetValue(topK), r.GetValue(seed)));
        return cmd;
    }

    public static int Generate(string run, string prompt, int length, double temperature, int? topK, ulong seed)
    {
        if (length < 0 || length > 1_000_000) throw new UserError($"--length must be in [0, 1000000], got {length}.");
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new UserError($"--temperature must be positive, got {temperature}.");
        if (topK is < 1) throw new UserError($"--top-k must be at least 1, got {topK}.");
        var (model, tokenizer) = Load(run);
        int[] ids;
        try { ids = tokenizer.Encode(prompt); }
        catch (DataException e) { throw new UserError($"--prompt: {e.Message}"); }
        if (ids.Length == 0) throw new UserError("--prompt gives no tokens; give some text.");
        var lm = (ILanguageModel)model;
        var output = TextGeneration.Generate(lm, ids, length, temperature, topK, new Generator(seed));
        Console.Out.Write(prompt);
        Console.Out.Write(tokenizer.Decode(output));
        Console.Out.WriteLine();
        return 0;
    }

    /// <summary>The model and tokenizer of a language-model run, in evaluation mode.</summary>
    public static (Module Model, Kindling.Data.Text.ITokenizer Tokenizer) Load(string run)
    {
        if (!Directory.Exists(run)) throw new UserError($"{run}: no such run folder.");
        var c = RunFolder.ReadConfig(run);
        if (c.ResolvedTask != "language_model") throw new UserError($"{run}: this run trained a {c.ResolvedTask ?? "non-language"} model; generate needs a run of train --model gpt|lstm.");
        var tok = TokenizerState.Read(run).Tokenizer;
        var model = LanguageModelRun.Build(c, tok.VocabSize, new Generator(0));
        var file = Path.Combine(run, "model.safetensors");
        if (!File.Exists(file)) throw new UserError($"{run}: no model.safetensors yet (the run stopped before its first evaluation).");
        try { Safetensors.LoadModule(file, model); }
        catch (Exception e) when (e is SafetensorsException or ArgumentException or IOException)
        {
            throw new UserError($"{file}: does not hold this run's {c.Model} ({e.Message}).");
        }
        model.Eval();
        return (model, tok);
    }
}
