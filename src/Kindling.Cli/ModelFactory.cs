using Kindling.NN;
using Kindling.Registry;

namespace Kindling.Cli;

/// <summary>Builds the MLP: [Linear → (BatchNorm1d) → activation → (Dropout)] per hidden layer, then Linear to the outputs.</summary>
public static class ModelFactory
{
    public static (Sequential Model, Generator DropoutGen) Build(int inputs, int outputs, TrainConfig c)
    {
        if (c.Model == "cnn") return CnnModel.Build(inputs, outputs, c);
        if (c.Model != "mlp") throw new UserError($"--model '{c.Model}': use mlp or cnn.");
        if (c.Hidden.Any(h => h <= 0)) throw new UserError($"--hidden: layer sizes must be positive, got {string.Join(",", c.Hidden)}.");
        if (c.Dropout is < 0 or >= 1) throw new UserError($"--dropout must be in [0, 1), got {c.Dropout}.");
        var init = new Generator(c.Seed ^ 0x5DEECE66DUL);
        var dropGen = new Generator(c.Seed);
        var model = new Sequential();
        int prev = inputs;
        foreach (var h in c.Hidden)
        {
            model.Add(new Linear(prev, h, generator: init));
            // Under mpirun, batch statistics over the global batch, so N processes normalise as one does.
            if (c.BatchNorm) model.Add(Kindling.Distributed.Distributed.IsDistributed ? new Kindling.Distributed.SyncBatchNorm1d(h) : new BatchNorm1d(h));
            model.Add(Activation(c.Activation));
            if (c.Dropout > 0) model.Add(new Dropout(c.Dropout, dropGen));
            prev = h;
        }
        model.Add(new Linear(prev, outputs, generator: init));
        return (model, dropGen);
    }

    /// <summary>The --activation layer, from the registry.</summary>
    public static Module Activation(string name) => Components.Activations.TryGet(name, out var e) ? e.Build()
        : throw new UserError($"--activation '{name}': use {ComponentTable<ActivationEntry>.OrList(Components.Activations.Names)}.");
}
