# Task derain (the default): the Rain13K training pairs and the five deraining test sets.
# The derain method configs (configs/danet/danet_1xb16-1000e_rain13k.py, ...) list these two
# dataset files directly and carry no `task` key (so their config hashes, and old results, stay
# as they were); a config without `task` is a derain config.
_base_ = ['../datasets/rain13k.py', '../datasets/derain_test.py']
task = dict(name='derain', degraded='rainy', degraded_folder='rainy', target='clean',
            synth='python -m data_tools synth CLEAN_DIR OUT_DIR --task derain --seed N')
