"""Messages for mistakes real students make: the GPU, variables of other cells, and where training failed."""
from autograder.assignments.vae.graders.grade_training import where_to_look
from autograder.core.assignment import load
from autograder.processes.messages import describe_student_error


def report(error, message, frames=()):
    return {"where": "sample", "error": error, "message": message, "frames": list(frames)}


def test_cuda_says_there_is_no_gpu_and_points_to_device():
    """Does `.cuda()` on the grader's CPU say that there is no GPU here, and point to `device`?"""
    for error, text in (("AssertionError", "Torch not compiled with CUDA enabled"),
                        ("RuntimeError", "Found no NVIDIA driver on your system.")):
        message = describe_student_error(report(error, text, ["line 3, in sample: z = z.cuda()"]))
        assert "without a GPU" in message and "`device`" in message and "z = z.cuda()" in message
    assert "GPU" not in describe_student_error(report("AssertionError", "shapes differ"))


def test_variable_of_another_cell_is_named_with_what_to_use():
    """Does a method reading `batch_size` or `vae` hear which variable, that methods must work on their own,
    and what to use instead (the advice of the assignment's spec), with its own class named?"""
    part1 = load("vae")
    message = describe_student_error(report("NameError", "name 'batch_size' is not defined"), part1)
    assert "`batch_size` is not defined" in message and "must work on its own" in message
    assert "mu.shape[0]" in message and "your VAE class" in message
    message = describe_student_error(report("NameError", "name 'vae' is not defined"), part1)
    assert "`vae` is not defined" in message and "`self`" in message
    message = describe_student_error(report("NameError", "name 'sigmma' is not defined"), part1)
    assert "`sigmma`" in message and "spelling" in message


def test_hints_follow_the_assignment():
    """Does Part 3 hear of its own classes and variables, never Part 1's layers, and a message without an
    assignment name no class?"""
    message = describe_student_error(report("NameError", "name 'cvae' is not defined"), load("cvae"))
    assert "your ConvVAE and ConditionalVAE classes" in message and "`self`" in message
    message = describe_student_error(report("NameError", "name 'obs_dim' is not defined"), load("cvae"))
    assert "linear4" not in message and "spelling" in message
    message = describe_student_error(report("NameError", "name 'obs_dim' is not defined"))
    assert "your classes" in message and "VAE" not in message


def test_training_message_names_the_methods_that_failed_their_tests():
    """When training fails, does its message name the methods it uses that failed their own tests, and fall
    back to nothing when none did?"""
    message = where_to_look({"encoder": ["encoder.values"], "sample": ["sample.prior"]})
    assert "uses encoder, which failed its own tests (encoder.values)" in message and "sample" not in message
    message = where_to_look({"sample_with_reparam": ["sample_with_reparam.gradients"], "elbo": ["elbo.sampled"]})
    assert "sample_with_reparam and elbo, which failed their own tests" in message
    assert where_to_look({"sample": ["sample.shapes"]}) == ""
