using Kindling.Registry;

namespace Kindling.Tests;

/// <summary>The command's choices, help and messages come from the registry: a registered component appears without a CLI edit.</summary>
[Collection("InProcessCli")]
public class CliRegistryTests
{
    private static CliTests.Result Run(params string[] args) => InProcessCli.RunCatching(args).Result;

    [Fact]
    public void HelpListsEveryRegisteredChoice()
    {
        var r = Run("train", "--help");
        Assert.Equal(0, r.Code);
        var help = string.Join(" ", r.Out.Split('\n').Select(l => l.Trim())); // the help wraps long descriptions
        Assert.Contains("--optimizer " + "", help);
        Assert.Contains(string.Join("|", Components.Optimizers.Names), help);
        Assert.Contains(string.Join("|", Components.Activations.Names), help);
        Assert.Contains(string.Join("|", Components.Schedulers.Names), help);
        foreach (var loss in Components.Losses.All.Where(l => l.Uses.Count > 0)) Assert.Contains(loss.Short, help);
        foreach (var d in Components.Datasets.Names) Assert.Contains(d, help);
        Assert.Contains("0.05 for sgd", help);
    }

    [Theory]
    [InlineData("--optimizer", "adamax", "--optimizer 'adamax': use sgd, adam, adamw, rmsprop or adagrad.")]
    [InlineData("--activation", "softsign", "--activation 'softsign': use relu, leaky_relu, elu, gelu, silu, hardswish, mish, tanh or sigmoid.")]
    [InlineData("--scheduler", "cyclic", "--scheduler 'cyclic': use none, step, cosine, exponential, warmup, onecycle or plateau.")]
    [InlineData("--momentum", "-0.5", "--momentum must be a finite number ≥ 0, got -0.5.")]
    [InlineData("--loss", "ctc", "--loss ctc does not fit a classification task; use one of: cross_entropy, focal, nll, multi_margin, mse, l1, huber.")]
    public void AnUnknownChoiceIsOneLineListingTheRegisteredOnes(string flag, string value, string message)
    {
        var dir = CliHarness.Tmp("registry-" + flag.Trim('-'));
        var r = Run("train", flag, value, "--epochs", "1", "--out", Path.Combine(dir, "run"));
        Assert.Equal(1, r.Code);
        Assert.Equal("error: " + message, r.Err.Trim());
        Assert.False(Directory.Exists(Path.Combine(dir, "run")) && Directory.EnumerateFiles(Path.Combine(dir, "run")).Any(), "a refused run left files behind");
    }

    [Theory]
    [InlineData("Leaky-ReLU", "leaky_relu")]
    [InlineData("AdamW", "adamw")]
    [InlineData("mse_loss", "mse")]
    public void AliasesAndSpellingsAreAccepted(string value, string resolved)
    {
        var dir = CliHarness.Tmp("alias-" + resolved);
        string flag = resolved switch { "leaky_relu" => "--activation", "adamw" => "--optimizer", _ => "--loss" };
        var run = Path.Combine(dir, "run");
        var r = Run("train", "--data", "diabetes", flag, value, "--epochs", "1", "--hidden", "8", "--out", run);
        Assert.True(r.Code == 0, r.Err);
        if (flag == "--loss") Assert.Equal(resolved, CliHarness.Config(run)["resolved_loss"]!.GetValue<string>());
    }
}
