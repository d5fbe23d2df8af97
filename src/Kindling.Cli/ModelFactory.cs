using Kindling.NN;

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
            if (c.BatchNorm) model.Add(new BatchNorm1d(h));
            model.Add(Activation(c.Activation));
            if (c.Dropout > 0) model.Add(new Dropout(c.Dropout, dropGen));
            prev = h;
        }
        model.Add(new Linear(prev, outputs, generator: init));
        return (model, dropGen);
    }

    public static Module Activation(string name) => name.ToLowerInvariant() switch
    {
        "relu" => new ReLU(),
        "leaky_relu" or "leakyrelu" => new LeakyReLU(),
        "elu" => new ELU(),
        "gelu" => new GELU(),
        "silu" or "swish" => new SiLU(),
        "tanh" => new Tanh(),
        "sigmoid" => new Sigmoid(),
        _ => throw new UserError($"--activation '{name}': use relu, leaky_relu, elu, gelu, silu, tanh or sigmoid."),
    };
}
